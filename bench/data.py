"""Opening a full-size case file: first time (validated, indexed) and once seen (cached).

    python -m bench.data [--source ddxplus|jsonl|agentclinic] [--file PATH] [--rows N] [--fit]

Without --file a file is built in a temp folder: for `ddxplus`, the size of the official
release_train_patients.csv (1,025,602 rows) from dev_patients.csv's 600 rows, repeated; for `jsonl`,
100,000 vignettes written from knowledge-base patients; for `agentclinic`, 100,000 records repeating
tests/data/agentclinic_sample.jsonl. Each measurement runs in a fresh process with an empty (first)
or filled (cached) $GRPODX_CACHE: seconds to open the source (`case_source(...)`), to build the
first training case and `held_out(1000)`, and the process's peak RSS. `--fit` also times
`train.py fit --config configs/default.yaml --data.cases SOURCE` from its start to its first rollout
turn (model load included): with nothing cached (the embedded model's one-time GGUF conversion
too), with the model cached but the file unseen, and with both cached. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RELEASE_FILES = ("release_conditions.json", "release_evidences.json")


DEFAULT_ROWS = {"ddxplus": 1_025_602, "jsonl": 100_000, "agentclinic": 100_000}
FIRST_ROLLOUT = "step 1 rollout: turn 1/"  # callbacks.RolloutProgress's first line off a terminal


def measure(reference: str) -> dict:
    """In this process: open, first case, held_out(1000), peak RSS."""
    from grpodx.cases.sources import case_source

    clock = time.perf_counter()
    source = case_source(reference)
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
    _repeat(folder / "train_patients.csv", lines, rows, header)


def build_jsonl(path: Path, rows: int) -> None:
    """`rows` vignettes (grpodx/cases/vignettes.py format) written from 1,000 knowledge-base patients, repeated."""
    from grpodx.cases.knowledge import embedded_knowledge_base
    from grpodx.cases.sources import KnowledgeBaseCases

    source = KnowledgeBaseCases(embedded_knowledge_base())
    lines = []
    for i in range(1000):
        case = source.train_case(i, 0)
        lines.append(json.dumps({
            "diagnosis": case.hidden_diagnosis, "icd10": case.icd10, "age": case.age, "sex": case.sex,
            "opening_complaint": case.opening_complaint, "present": {f.label: f.statement for f in case.present},
            "absent": {f.label: f.statement for f in case.absent}}) + "\n")
    _repeat(path, lines, rows)


def _repeat(path: Path, lines: list[str], rows: int, header: str = "") -> None:
    """`header`, then `rows` lines: `lines` over and over."""
    with path.open("w", encoding="utf-8") as out:
        out.write(header)
        for start in range(0, rows, len(lines)):
            out.writelines(lines[:min(len(lines), rows - start)])


def time_to_first_rollout(reference: str, env: dict) -> float:
    """Seconds from `train.py fit` start to its first rollout turn; the run is then stopped."""
    command = [sys.executable, "train.py", "fit", "--config", "configs/default.yaml", "--data.cases", reference,
               "--trainer.logger.init_args.save_dir", str(Path(env["GRPODX_CACHE"]).parent / "runs"),
               "--transcripts.console", "false"]
    clock = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    try:
        for line in process.stderr:
            if FIRST_ROLLOUT in line:
                return round(time.perf_counter() - clock, 1)
        raise RuntimeError(f"train.py ended before its first rollout (exit {process.wait()})")
    finally:
        process.kill()
        process.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=sorted(DEFAULT_ROWS), default="ddxplus")
    parser.add_argument("--file", help="a DDXPlus patients CSV with the release files beside it, or a JSONL file")
    parser.add_argument("--rows", type=int, help="rows of the built file (without --file; default: "
                        + ", ".join(f"{k} {v:,}" for k, v in DEFAULT_ROWS.items()) + ")")
    parser.add_argument("--fit", action="store_true", help="also time train.py fit to its first rollout")
    parser.add_argument("--ddxplus", default=str(ROOT.parent / "shared" / "data" / "ddxplus"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one measurement in this process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    rows = args.rows or DEFAULT_ROWS[args.source]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        folder = scratch / "data"
        folder.mkdir()
        if args.file:
            target = folder / Path(args.file).name
            target.symlink_to(Path(args.file).resolve())
            if args.source == "ddxplus":
                for name in RELEASE_FILES:
                    (folder / name).symlink_to((Path(args.file).resolve().parent / name))
        else:
            clock = time.perf_counter()
            if args.source == "ddxplus":
                build_file(folder, Path(args.ddxplus), rows)
                target = folder / "train_patients.csv"
            elif args.source == "jsonl":
                target = folder / "cases.jsonl"
                build_jsonl(target, rows)
            else:
                target = folder / "agentclinic.jsonl"
                _repeat(target, (ROOT / "tests" / "data" / "agentclinic_sample.jsonl").read_text().splitlines(True), rows)
            print(f"built {rows} rows in {time.perf_counter() - clock:.0f} s", file=sys.stderr)
        reference = f"ddxplus:{folder}" if args.source == "ddxplus" else f"{args.source}:{target}"
        env = {**os.environ, "GRPODX_CACHE": str(scratch / "cache")}
        result = {"source": args.source, "file_mb": round(target.stat().st_size / 2**20)}
        for phase in ("first", "cached"):
            out = subprocess.run([sys.executable, "-m", "bench.data", "--measure", reference], cwd=ROOT, env=env,
                                 capture_output=True, text=True, check=True)
            result[phase] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{phase}: {result[phase]}", file=sys.stderr)
        if args.fit:  # nothing cached (the model's GGUF conversion too), the file unseen, all cached
            for phase, forget in (("nothing_cached", scratch / "cache"), ("file_unseen", scratch / "cache" / "line-index"),
                                  ("cached", None)):
                if forget is not None:
                    shutil.rmtree(forget, ignore_errors=True)
                result[f"fit_to_first_rollout_{phase}_s"] = time_to_first_rollout(reference, env)
                print(f"fit to first rollout, {phase}: {result[f'fit_to_first_rollout_{phase}_s']} s", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
