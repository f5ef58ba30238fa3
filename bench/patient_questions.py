"""How often the offline patient maps a doctor's question to the right DDXPlus evidence.

`python -m bench.patient_questions [--ddxplus ../shared/data/ddxplus]` scores the top match of every
paraphrase in tests/data/ddxplus_paraphrases.jsonl (the set the matcher was tuned on) and in
tests/data/ddxplus_paraphrases_holdout.jsonl (never tuned on), against all 223 evidences; prints
each miss, the time of one `reply_batch` of 16 episodes, and last one JSON line with
`question_accuracy` (tuned set) and `n`, plus `holdout_accuracy` and `holdout_n`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from grpodx.ddxplus import CaseBuilder, PatientFile, load_release
from grpodx.patients.matching import Candidate, FindingMatcher
from grpodx.patients.offline import OfflinePatient

ROOT = Path(__file__).resolve().parents[1]
TUNED = ROOT / "tests" / "data" / "ddxplus_paraphrases.jsonl"
HOLDOUT = ROOT / "tests" / "data" / "ddxplus_paraphrases_holdout.jsonl"
DEFAULT_DDXPLUS = ROOT.parent / "shared" / "data" / "ddxplus"


def read_paraphrases(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def top_matches(matcher: FindingMatcher, vocabulary: list[Candidate], questions: list[str]) -> list[str | None]:
    """The evidence code each question is matched to first (None: not understood)."""
    hits = matcher.match(questions, [vocabulary] * len(questions))
    return [h[0].finding.id if h else None for h in hits]


def accuracy(matcher: FindingMatcher, vocabulary: list[Candidate], rows: list[dict], label: str) -> float:
    found = top_matches(matcher, vocabulary, [r["question"] for r in rows])
    for row, got in zip(rows, found):
        if got != row["evidence"]:
            print(f"  {label} miss: {row['question']!r}: want {row['evidence']}, got {got}")
    return sum(g == r["evidence"] for g, r in zip(found, rows)) / len(rows)


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
    args = parser.parse_args()
    builder = CaseBuilder(load_release(args.ddxplus))
    vocabulary = [Candidate(f, None) for f in builder.vocabulary]
    patient = OfflinePatient()
    tuned, holdout = read_paraphrases(TUNED), read_paraphrases(HOLDOUT)
    tuned_accuracy = accuracy(patient.matcher, vocabulary, tuned, "tuned")
    holdout_accuracy = accuracy(patient.matcher, vocabulary, holdout, "held-out")
    seconds = reply_batch_seconds(patient, args.ddxplus, tuned)
    print(f"tuned set: {tuned_accuracy:.3f} of {len(tuned)}; held-out set: {holdout_accuracy:.3f} of "
          f"{len(holdout)}; reply_batch of 16 (3 questions each): {seconds * 1000:.0f} ms")
    print(json.dumps({"question_accuracy": round(tuned_accuracy, 4), "n": len(tuned),
                      "holdout_accuracy": round(holdout_accuracy, 4), "holdout_n": len(holdout),
                      "reply_batch_16_ms": round(seconds * 1000, 1)}))


if __name__ == "__main__":
    main()
