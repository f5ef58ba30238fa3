"""Compare two doctors on DEVELOPMENT patients (never bench.learning's held-out ones), paired.

    python -m bench.warm_start_ab A/last.ckpt B/last.ckpt [C/last.ckpt ...] [--n 64] [--seed 77]

The checkpoints play the same greedy episodes on `SampledDDXPlusCases.held_out(n, seed)` (seed 77:
bench.learning's held-out patients are seed 1234 and dev_patients.csv), with bench.learning's
evaluation. One JSON line per doctor (metrics as [lo, mean, hi], how many distinct final diagnoses
and the most common with its share: a doctor that narrows onto one name shows it here), then each one minus the LAST
(the baseline, e.g. the warm start GRPO started from) by the paired bootstrap. It chose the warm
start's diagnosis_weight and GRPO's learning rate (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from bench.learning import ROOT, held_out_episodes, intervals, per_patient
from grpodx.answer_spread import answer_spread
from grpodx.report.intervals import paired_difference


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", metavar="CKPT",
                        help="last.ckpt files of train.py fit; the last one is the baseline the others are compared with")
    parser.add_argument("--n", type=int, default=64, help="development patients")
    parser.add_argument("--seed", type=int, default=77, help="their held-out seed (not 1234: bench.learning's)")
    parser.add_argument("--ddxplus", default=str(ROOT.parent / "shared" / "data" / "ddxplus"))
    args = parser.parse_args(argv)
    if len(args.checkpoints) < 2:
        raise SystemExit("error: checkpoints: give at least two (the last is the baseline)")
    if args.seed == 1234:
        raise SystemExit("error: --seed: 1234 draws bench.learning's held-out patients; use another (77)")
    from grpodx.cases.sources import SampledDDXPlusCases

    patients = {"dev": SampledDDXPlusCases(args.ddxplus).held_out(args.n, args.seed)}
    scores = {}
    for checkpoint in args.checkpoints:
        episodes = held_out_episodes(Path(checkpoint), patients, Path(checkpoint), base=False)["dev"]
        scores[checkpoint] = per_patient(episodes)
        finals = [e.final_diagnosis for e in episodes]
        spread = answer_spread(finals)
        print(json.dumps({"checkpoint": checkpoint, **intervals(scores[checkpoint]),
                          "distinct_finals": spread.distinct, "top_final_share": round(spread.top_share, 4),
                          "most_common": collections.Counter(finals).most_common(5)}), flush=True)
    baseline = scores[args.checkpoints[-1]]
    for checkpoint in args.checkpoints[:-1]:
        print(json.dumps({"minus_baseline": checkpoint, **{
            k: [round(x, 4) for x in paired_difference(scores[checkpoint][k], baseline[k])]
            for k in ("top1", "top3", "reward", "no_final")}}))


if __name__ == "__main__":
    main()
