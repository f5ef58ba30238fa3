"""Opening a full-size DDXPlus patients file: first time (validated, indexed) and once seen (cached).

    python -m bench.data [--file PATH] [--rows 1025602] [--ddxplus ../shared/data/ddxplus]

Without --file, a file the size of the official release_train_patients.csv (1,025,602 rows) is
built in a temp folder from dev_patients.csv's 600 rows, repeated. Each measurement runs in a fresh
process with an empty (first) or filled (cached) $GRPODX_CACHE: seconds to open the source
(`case_source("ddxplus:...")`), to build the first training case and `held_out(1000)`, and the
process's peak RSS. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RELEASE_FILES = ("release_conditions.json", "release_evidences.json")


def measure(folder: str) -> dict:
    """In this process: open, first case, held_out(1000), peak RSS."""
    from grpodx.cases.sources import case_source

    clock = time.perf_counter()
    source = case_source(f"ddxplus:{folder}")
    opened = time.perf_counter() - clock
    clock = time.perf_counter()
    source.train_case(0, 0)
    first = time.perf_counter() - clock
    clock = time.perf_counter()
    held_out = source.held_out(1000, 0)
    return {"rows": source.count, "open_s": round(opened, 2), "first_case_s": round(first, 3),
            "held_out_1000_s": round(time.perf_counter() - clock, 2), "held_out": len(held_out),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def build_file(folder: Path, ddxplus: Path, rows: int) -> None:
    """release files beside a patients CSV of `rows` rows: dev_patients.csv's rows, repeated."""
    for name in RELEASE_FILES:
        (folder / name).symlink_to((ddxplus / name).resolve())
    header, *lines = (ddxplus / "dev_patients.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    with (folder / "train_patients.csv").open("w", encoding="utf-8") as out:
        out.write(header)
        for start in range(0, rows, len(lines)):
            out.writelines(lines[:min(len(lines), rows - start)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", help="a DDXPlus patients CSV with the release files beside it")
    parser.add_argument("--rows", type=int, default=1_025_602, help="rows of the built file (without --file)")
    parser.add_argument("--ddxplus", default=str(ROOT.parent / "shared" / "data" / "ddxplus"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one measurement in this process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if args.file:
            folder = scratch / "data"
            folder.mkdir()
            (folder / Path(args.file).name).symlink_to(Path(args.file).resolve())
            for name in RELEASE_FILES:
                (folder / name).symlink_to((Path(args.file).resolve().parent / name))
        else:
            folder = scratch / "data"
            folder.mkdir()
            clock = time.perf_counter()
            build_file(folder, Path(args.ddxplus), args.rows)
            print(f"built {args.rows} rows in {time.perf_counter() - clock:.0f} s", file=sys.stderr)
        env = {**os.environ, "GRPODX_CACHE": str(scratch / "cache")}
        result = {"file_mb": round(sum(p.stat().st_size for p in folder.glob("*.csv")) / 2**20)}
        for phase in ("first", "cached"):
            out = subprocess.run([sys.executable, "-m", "bench.data", "--measure", str(folder)], cwd=ROOT, env=env,
                                 capture_output=True, text=True, check=True)
            result[phase] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{phase}: {result[phase]}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
