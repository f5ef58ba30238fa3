"""Library chatter that tells a GRPODx user nothing, silenced in one place for every entry point.

Lightning's "GPU available: False", its litlogger tip and checkpoint hints, transformers' "Loading
weights" bars (a second each on the embedded model) and deprecation warnings meant for our code,
not for the user. Warnings that say something about the run (a bad value, a fallback) still print;
GRPODx prints its own lines for what matters: threads, the run folder, resume, the final figures.
"""

from __future__ import annotations

import logging
import warnings

LIGHTNING_INFO_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


def quiet_libraries() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    for name in LIGHTNING_INFO_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=r".*is deprecated")
    # every resume writes a new version_N folder by design; Lightning warns that the dirpath changed
    warnings.filterwarnings("ignore", message=r"The dirpath has changed from")
