"""Where GRPODx keeps what it computes once and reuses: converted models, file indexes.

`$GRPODX_CACHE`, else ~/.cache/grpodx. Everything in it can be deleted; it is rebuilt when needed.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("GRPODX_CACHE", Path.home() / ".cache" / "grpodx"))
