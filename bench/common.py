"""What every benchmark shares: the default doctor and a fixed set of cases."""

from __future__ import annotations

import resource

from grpodx.cases.sources import case_source
from grpodx.doctor import Doctor, DoctorConfig, load_doctor


def default_doctor(**overrides) -> Doctor:
    """The embedded default doctor with the dtype and sampling of configs/default.yaml (overridable)."""
    config = DoctorConfig(**{"dtype": "bfloat16", "max_new_tokens": 64, **overrides})
    return load_doctor(config)


def bench_cases(count: int, seed: int = 99):
    source = case_source("kb")
    return [source.train_case(i, seed) for i in range(count)]


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


