"""How often the offline patient maps a doctor's question to the right DDXPlus evidence.

`python -m bench.patient_questions [--ddxplus ../shared/data/ddxplus] [--files F ...] [--quiet SET ...]`
scores the top match of every paraphrase in each tests/data/ddxplus_paraphrases*.jsonl (or the given
files) against all 223 evidences: ddxplus_paraphrases.jsonl and ddxplus_paraphrases_holdout.jsonl are
the sets the matcher is tuned on, ddxplus_paraphrases_holdout2.jsonl is held out (pass `--quiet
holdout2` so its misses are counted but not printed). Prints each miss, the time of one `reply_batch`
of 16 episodes, and last one JSON line: `accuracy` and `n` per set, plus `question_accuracy`/`n` (the
first tuning set) and `holdout_accuracy`/`holdout_n` (the old holdout) as before. `reply_accuracy` scores
the same questions through `OfflinePatient.reply_batch` (a question naming a condition outside history
is a request for the diagnosis: `named_condition` counts those; issue 11).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from grpodx.cases import Case
from grpodx.cases.ddxplus import CaseBuilder, PatientFile, load_release
from grpodx.patients.matching import Candidate, FindingMatcher
from grpodx.patients.offline import OfflinePatient

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
PREFIX = "ddxplus_paraphrases"
DEFAULT_DDXPLUS = ROOT.parent / "shared" / "data" / "ddxplus"


def read_paraphrases(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def set_name(path: Path) -> str:
    """'tuned' for ddxplus_paraphrases.jsonl, else the suffix: 'holdout', 'holdout2', ..."""
    return path.stem.removeprefix(PREFIX).lstrip("_") or "tuned"


def top_matches(matcher: FindingMatcher, vocabulary: list[Candidate], questions: list[str]) -> list[str | None]:
    """The evidence code each question is matched to first (None: not understood)."""
    hits = matcher.match(questions, [vocabulary] * len(questions))
    return [h[0].finding.id if h else None for h in hits]


def accuracy(matcher: FindingMatcher, vocabulary: list[Candidate], rows: list[dict], label: str,
             show_misses: bool = True) -> float:
    found = top_matches(matcher, vocabulary, [r["question"] for r in rows])
    for row, got in zip(rows, found):
        if show_misses and got != row["evidence"]:
            print(f"  {label} miss: {row['question']!r}: want {row['evidence']}, got {got}")
    return sum(g == r["evidence"] for g, r in zip(found, rows)) / len(rows)


def reply_accuracy(patient: OfflinePatient, blank: Case, rows: list[dict]) -> tuple[float, int]:
    """(top-1 accuracy of what the patient answers, questions answered as a request for the
    diagnosis) on a case that records nothing: the matcher's choice plus the patient's rules
    (a question naming a condition outside history, history answered by a finding about it)."""
    questions = [r["question"] for r in rows]
    replies = patient.reply_batch([blank] * len(rows), questions, [[] for _ in rows])
    right = sum(bool(r.matched) and r.matched[0].finding == row["evidence"] for r, row in zip(replies, rows))
    named = sum(OfflinePatient.plan(blank, q) is None for q in questions)
    return right / len(rows), named


def reply_batch_seconds(patient: OfflinePatient, folder: Path, rows: list[dict], size: int = 16) -> float:
    """One training-like turn: 16 recorded patients, three questions each, answered in one call."""
    release = load_release(folder)
    builder = CaseBuilder(release)
    patients = PatientFile(next(folder.glob("*.csv")), release)
    cases = [builder.case(patients.record(i), f"bench-{i}") for i in range(size)]
    texts = [" ".join(rows[(3 * i + j) % len(rows)]["question"] for j in range(3)) for i in range(size)]
    patient.reply_batch(cases, texts, [[] for _ in cases])  # warm: model loaded, index built
    texts = [t.replace("?", " now?") for t in texts]  # new questions, so nothing comes from a cache
    started = time.perf_counter()
    patient.reply_batch(cases, texts, [[] for _ in cases])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ddxplus", type=Path, default=DEFAULT_DDXPLUS, help="folder with the release files")
    parser.add_argument("--files", type=Path, nargs="+", default=sorted(DATA.glob(f"{PREFIX}*.jsonl")),
                        help="paraphrase sets to score (default: every tests/data/ddxplus_paraphrases*.jsonl)")
    parser.add_argument("--quiet", nargs="*", default=[], metavar="SET",
                        help="sets (e.g. holdout2) whose misses are counted but not printed")
    args = parser.parse_args()
    builder = CaseBuilder(load_release(args.ddxplus))
    vocabulary = [Candidate(f, None) for f in builder.vocabulary]
    patient = OfflinePatient()
    sets = {set_name(path): read_paraphrases(path) for path in args.files}
    scores = {name: accuracy(patient.matcher, vocabulary, rows, name, name not in args.quiet)
              for name, rows in sets.items()}
    release = load_release(args.ddxplus)
    record = PatientFile(next(args.ddxplus.glob("*.csv")), release).record(0)
    blank = replace(builder.case(record, "blank"), present=(), absent=())
    replied = {name: reply_accuracy(patient, blank, rows) for name, rows in sets.items()}
    seconds = reply_batch_seconds(patient, args.ddxplus, next(iter(sets.values())))
    print("; ".join(f"{name}: {score:.3f} of {len(sets[name])} (replies {replied[name][0]:.3f}, "
                    f"{replied[name][1]} named a condition)" for name, score in scores.items())
          + f"; reply_batch of 16 (3 questions each): {seconds * 1000:.0f} ms")
    summary = {"sets": {name: {"accuracy": round(score, 4), "n": len(sets[name]),
                               "reply_accuracy": round(replied[name][0], 4), "named_condition": replied[name][1]}
                        for name, score in scores.items()}}
    legacy = (("question_accuracy", "n", "tuned"), ("holdout_accuracy", "holdout_n", "holdout"))
    for accuracy_key, n_key, name in legacy:
        if name in scores:  # the keys this bench printed before it scored every set
            summary[accuracy_key], summary[n_key] = round(scores[name], 4), len(sets[name])
    summary["reply_batch_16_ms"] = round(seconds * 1000, 1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
