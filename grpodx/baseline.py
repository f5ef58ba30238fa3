"""A non-LLM naive-Bayes doctor: how solvable is this environment?

`python -m grpodx.baseline --cases ddxplus:DIR [--patients CSV] --n 200 --max-turns 5`

Each turn it asks the yes/no DDXPlus questions with the largest expected information gain under a
naive-Bayes posterior over pathologies (priors and P(evidence | pathology) from kb_en.json), in the
release's own English wording, to the same patient simulator the doctor LLM talks to; it updates on
the findings the patient's reply matched, and on its last turn names the top pathology. The
posterior starts from the opening complaint, read by meaning like any question (DDXPlus asks every
patient its INITIAL_EVIDENCE first; `--ignore-complaint` starts from the priors instead). The same
judge scores it. A random-question doctor beside it gives the floor. The naive-Bayes logic lives in
`grpodx.naive_bayes`, shared with the expert demonstrations (`grpodx.demonstrations`). The last line is JSON with
`top1`, `top3`, `reward`, `turns`, `random_top1`.
"""

from __future__ import annotations

import json
import random
import sys

from grpodx.cases.sources import ddxplus_cases
from grpodx.errors import one_line_errors
from grpodx.cases.ddxplus import load_pathology_kb, load_release, locate
from grpodx.episode import DoctorTurn, Episode
from grpodx.episode_metrics import top_k_hit
from grpodx.entry import entry_parser
from grpodx.errors import ConfigError
from grpodx.judges import OfflineJudge
from grpodx.naive_bayes import NaiveBayesDoctor
from grpodx.patients import OfflinePatient

__all__ = ["NaiveBayesDoctor", "play", "summary", "main"]


def play(doctor: NaiveBayesDoctor, patient, judge, cases, max_turns: int, seed: int,
         questions_per_turn: int, read_complaint: bool = True) -> list[Episode]:
    """Run every case turn by turn (patient replies batched per turn), then score with the judge."""
    rng = random.Random(seed)
    episodes = [Episode(case, group=i) for i, case in enumerate(cases)]
    if read_complaint:
        answers = doctor.read_complaints([case.opening_complaint for case in cases])
    else:
        answers = [{} for _ in cases]  # the priors
    asked = [set() for _ in cases]
    for _ in range(max_turns - 1):
        codes = [doctor.next_questions(a, s, rng, questions_per_turn) for a, s in zip(answers, asked)]
        texts = [" ".join(doctor.questions[c] for c in turn) for turn in codes]
        replies = patient.reply_batch([e.case for e in episodes], texts, [[] for _ in episodes])
        for i, (episode, turn, text, reply) in enumerate(zip(episodes, codes, texts, replies)):
            asked[i].update(turn)
            for match in reply.matched:
                if match.present is not None and match.finding in doctor.index:
                    answers[i][match.finding] = match.present
            top = doctor.ranked(answers[i])[0]
            episode.doctor_turns.append(DoctorTurn([], [], text, text, f"leading: {top}", True))
            episode.patient_replies.append(reply)
    for episode, a in zip(episodes, answers):
        ranked = doctor.ranked(a)
        text = "Final diagnosis: " + ranked[0]
        episode.doctor_turns.append(DoctorTurn([], [], text, text, f"top: {ranked[:3]}", True))
        episode.final_diagnosis, episode.differential = ranked[0], ranked[1:3]
    for episode, score in zip(episodes, judge.score_batch(episodes)):
        episode.score = score
    return episodes


def summary(episodes: list[Episode]) -> dict[str, float]:
    n = len(episodes)
    return {"top1": sum(top_k_hit(e, 1) for e in episodes) / n, "top3": sum(top_k_hit(e, 3) for e in episodes) / n,
            "reward": sum(e.score.reward for e in episodes) / n, "turns": sum(e.num_turns for e in episodes) / n}


def main(argv: list[str] | None = None) -> None:
    parser = entry_parser("python -m grpodx.baseline", __doc__)
    parser.add_argument("--cases", required=True, help="ddxplus:DIR (a folder with the release files and kb_en.json)")
    parser.add_argument("--patients", help="a patients CSV kept apart from the release files")
    parser.add_argument("--n", type=int, default=200, help="patients to play")
    parser.add_argument("--max-turns", type=int, default=5)
    parser.add_argument("--questions-per-turn", type=int, default=3, help="questions asked in one doctor turn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ignore-complaint", action="store_true",
                        help="start from the priors, not from the opening complaint (the old reference)")
    with one_line_errors("python -m grpodx.baseline --help"):
        args = parser.parse_args(argv)
        if not args.cases.startswith("ddxplus:"):
            raise ConfigError("--cases", f"{args.cases!r} is not a DDXPlus source", "use --cases ddxplus:DIR")
        if args.n < 1 or args.max_turns < 1:
            raise ConfigError("--n/--max-turns", "must be >= 1", "use e.g. --n 200 --max-turns 5")
        path = args.cases.partition(":")[2]
        files = locate(path, need_patients=args.patients is None, need_kb=True)
        release = load_release(files.folder)
        pathology_kb = load_pathology_kb(files.kb, release)
        source = ddxplus_cases(path, args.patients)
    cases = [source.train_case(i, args.seed) for i in range(args.n)]
    patient, judge = OfflinePatient(), OfflineJudge()
    results = {}
    for label, informative in (("reference", True), ("random", False)):
        doctor = NaiveBayesDoctor.from_ddxplus(release, pathology_kb, informative)
        results[label] = summary(play(doctor, patient, judge, cases, args.max_turns, args.seed,
                                      args.questions_per_turn, not args.ignore_complaint))
        r = results[label]
        print(f"{label:>10} doctor: top-1 {r['top1']:.3f}  top-3 {r['top3']:.3f}  reward {r['reward']:.3f}  "
              f"turns {r['turns']:.2f}  (n={args.n}, max_turns={args.max_turns}, "
              f"{args.questions_per_turn} questions/turn)", file=sys.stderr)
    print(json.dumps({**{k: round(v, 4) for k, v in results["reference"].items()},
                      "random_top1": round(results["random"]["top1"], 4),
                      "random_top3": round(results["random"]["top3"], 4),
                      "random_reward": round(results["random"]["reward"], 4)}))


if __name__ == "__main__":
    main()
