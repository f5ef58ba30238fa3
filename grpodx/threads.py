"""How many CPU threads torch runs on, chosen once at start-up and said.

OMP_NUM_THREADS when set, else the cores this process may run on (its CPU affinity, which cgroups,
taskset and SLURM narrow: torch's own default counts the machine's cores). Two jobs on the same
cores must split them (OMP_NUM_THREADS=1 each on 2 cores): with both at the default, each runs
10-30x slower (a small matmul took 30 s instead of 0.3 s; an evaluation timed out at 600 s that took
104 s with OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import os
import sys


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def configure_threads(announce: bool = True) -> int:
    import torch

    wanted = os.environ.get("OMP_NUM_THREADS", "").strip()
    threads = int(wanted) if wanted.isdigit() and int(wanted) > 0 else available_cores()
    torch.set_num_threads(threads)
    if announce:
        source = "OMP_NUM_THREADS" if wanted.isdigit() and int(wanted) > 0 else "the cores available"
        print(f"threads: {threads} ({source}; another job on these cores: give each OMP_NUM_THREADS)",
              file=sys.stderr, flush=True)
    return threads
