"""Expert demonstrations: the naive-Bayes doctor's episodes in the doctor's own format.

    python -m grpodx.demonstrations --cases ddxplus-sample:DIR --n 400 --out demos.jsonl [--seed 0]

The naive-Bayes doctor (grpodx.naive_bayes) plays TRAINING cases of the source (never its held-out
slice) against the offline patient. Every turn it writes a `<reason>` block (its leading
hypotheses, posteriors in words, and what it will check), then 1-3 plain questions, worded by a
seeded choice among several clinician's phrasings (grpodx.demonstration_questions); a wording is
kept only when the patient's matcher maps it to the intended finding, so every answer in a
demonstration is what the patient really says to that question. The last turn ends with
`Differential: A, B, C` and `Final diagnosis: A`. A turn that would not fit the doctor's
`max_new_tokens` drops its last question (then its reasoning shrinks). One JSON object per line;
the warm start (grpodx.warm_start) learns from them. The last stdout line is JSON with the
naive-Bayes doctor's top-1 over the written episodes and how often a wording was misunderstood.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grpodx.cases.sources import FIELD, KnowledgeBaseCases, SampledDDXPlusCases, case_source
from grpodx.cases import Case
from grpodx.demonstration_questions import QuestionBank
from grpodx.dialogue import differential, final_diagnosis, split_reasoning
from grpodx.episode import DoctorTurn, Episode, PatientReply
from grpodx.episode_metrics import top_k_hit
from grpodx.errors import ConfigError
from grpodx.entry import entry_parser
from grpodx.naive_bayes import NaiveBayesDoctor


@dataclass(frozen=True)
class DemonstrationTurn:
    """One doctor turn: its whole text (`<reason>` included), whether its prompt said it was the
    last turn, the finding codes its questions were written for, and the patient's reply."""

    text: str
    last_turn: bool
    asked: tuple[str, ...] = ()
    reply: str = ""


@dataclass(frozen=True)
class Demonstration:
    """A whole episode of the naive-Bayes doctor, enough to rebuild every prompt the doctor would see."""

    case_id: str
    cases: str
    hidden_diagnosis: str
    opening_statement: str
    turns: tuple[DemonstrationTurn, ...]
    final_diagnosis: str
    top1: bool
    reward: float

    def visible_history(self, before: int) -> list[tuple[str, str]]:
        """(doctor visible text, patient reply) of the turns before `before`: hidden reasoning never
        re-enters the doctor's context (techspec), exactly as the environment builds it."""
        return [(split_reasoning(t.text).visible_text, t.reply) for t in self.turns[:before]]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, line: str) -> Demonstration:
        raw = json.loads(line)
        turns = tuple(DemonstrationTurn(t["text"], bool(t["last_turn"]), tuple(t.get("asked", ())),
                                        t.get("reply", "")) for t in raw["turns"])
        if not turns:
            raise ValueError("an episode needs at least one turn")
        return cls(raw["case_id"], raw["cases"], raw["hidden_diagnosis"], raw["opening_statement"], turns,
                   raw["final_diagnosis"], bool(raw["top1"]), float(raw["reward"]))


def read_demonstrations(path: str | Path, field_name: str = "--demonstrations") -> list[Demonstration]:
    """Every demonstration of a JSONL file; a bad line is one ConfigError naming FILE:LINE."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(field_name, f"{str(path)!r} does not exist",
                          "write one with python -m grpodx.demonstrations --cases SOURCE --n N --out FILE")
    demonstrations = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            demonstrations.append(Demonstration.from_json(line))
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigError(field_name, f"{path}:{number}: not a demonstration ({error!r})",
                              "regenerate the file with python -m grpodx.demonstrations") from error
    if not demonstrations:
        raise ConfigError(field_name, f"{path} holds no demonstrations", "regenerate it with --n 400")
    return demonstrations


# ---- the naive-Bayes doctor's words -----------------------------------------------------------------
def likelihood_words(p: float) -> str:
    """A posterior in words, as a clinician would say it."""
    return "very likely" if p >= 0.7 else "likely" if p >= 0.4 else "possible" if p >= 0.15 else "less likely"


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def turn_reasons(leading: list[tuple[str, float]], checking: list[str], rng: random.Random) -> list[str]:
    """Reasoning for a questioning turn, longest first (shorter ones stand in when tokens run out)."""
    (a, pa), rest = leading[0], leading[1:]
    b = rest[0][0] if rest else None
    second = f"; {b} is {likelihood_words(rest[0][1])}" if b else ""
    head = rng.choice([f"Leading: {a} ({likelihood_words(pa)})" + (f", then {b}" if b else "") + ".",
                       f"{a} is {likelihood_words(pa)}{second}.",
                       f"Most likely {a}" + (f", {b} possible" if b else "") + "."])
    check = rng.choice(["Checking {}.", "Next: ask about {}.", "To tell them apart: {}."]).format(_listing(checking))
    return [f"{head} {check}", head, f"Leading: {a}."]


def final_reasons(leading: list[tuple[str, float]], positives: list[str], rng: random.Random) -> list[str]:
    """Reasoning for the last turn, longest first."""
    (a, pa), others = leading[0], [name for name, _ in leading[1:]]
    head = rng.choice([f"{a} fits best ({likelihood_words(pa)})", f"Most likely {a} ({likelihood_words(pa)})"])
    tail = f" over {_listing(others)}." if others else "."
    found = f"Reported: {_listing(positives)}. " if positives else ""
    return [f"{found}{head}{tail}", f"{head}{tail}", f"{head}."]


def compose(reasons: list[str], body: list[str], separator: str, fits: Callable[[str], bool],
            keep: int = 1) -> tuple[str, int]:
    """The longest turn that fits: all of `body` with the fullest reason, then fewer body lines
    (never under `keep`), then shorter reasons. Returns the text and how many body lines it kept."""
    for count in range(len(body), keep - 1, -1):
        for reason in reasons:
            text = f"<reason>{reason}</reason>\n" + separator.join(body[:count])
            if fits(text):
                return text, count
    return f"<reason>{reasons[-1]}</reason>\n" + separator.join(body[:keep]), keep


# ---- playing ------------------------------------------------------------------------------------
@dataclass
class PlayStats:
    """How often the patient misunderstood a chosen wording (probes) and what the turns held."""

    probes: int = 0
    misunderstood: int = 0
    dropped_for_length: int = 0
    questions: list[int] = field(default_factory=list)

    @property
    def misunderstood_rate(self) -> float:
        return self.misunderstood / self.probes if self.probes else 0.0


class BayesPlayer:
    """Plays cases with the naive-Bayes doctor, wording each question from the bank."""

    def __init__(self, doctor: NaiveBayesDoctor, bank: QuestionBank, patient, judge, max_turns: int = 5,
                 questions_per_turn: int = 3, fits: Callable[[str], bool] = lambda text: True,
                 candidates_per_turn: int = 6, wordings_per_question: int = 2):
        self.doctor, self.bank, self.patient, self.judge = doctor, bank, patient, judge
        self.max_turns, self.questions_per_turn, self.fits = max_turns, questions_per_turn, fits
        self.candidates_per_turn, self.wordings_per_question = candidates_per_turn, wordings_per_question
        self.stats = PlayStats()

    def play(self, cases: list[Case], source: str, rng: random.Random) -> list[Demonstration]:
        answers = self.doctor.read_complaints([case.opening_complaint for case in cases])
        asked: list[set[str]] = [set() for _ in cases]
        turns: list[list[DemonstrationTurn]] = [[] for _ in cases]
        replies_of: list[list[PatientReply]] = [[] for _ in cases]
        for _ in range(self.max_turns - 1):
            chosen = self._understood_questions(cases, answers, asked, rng)
            texts = []
            for i, picks in enumerate(chosen):
                leading = self.doctor.leading(answers[i], 2)
                labels = [self.doctor.findings[code].label for code, _ in picks]
                text, kept = compose(turn_reasons(leading, labels, rng), [q for _, q in picks], " ", self.fits)
                self.stats.dropped_for_length += len(picks) - kept
                chosen[i] = picks[:kept]
                texts.append(text)
            visible = [split_reasoning(t).visible_text for t in texts]
            replies = self.patient.reply_batch(cases, visible, [[] for _ in cases])
            for i, (picks, text, reply) in enumerate(zip(chosen, texts, replies)):
                asked[i].update(code for code, _ in picks)
                for match in reply.matched:
                    if match.present is not None and match.finding in self.doctor.index:
                        answers[i][match.finding] = match.present
                turns[i].append(DemonstrationTurn(text, False, tuple(c for c, _ in picks), reply.text))
                replies_of[i].append(reply)
                self.stats.questions.append(len(picks))
        return self._finish(cases, source, answers, turns, replies_of, rng)

    def _understood_questions(self, cases, answers, asked, rng) -> list[list[tuple[str, str]]]:
        """Per case, up to questions_per_turn (code, wording) pairs, most informative first, whose
        wording the patient maps to that very finding; each code gets a few wordings to try."""
        options = []
        for i, case in enumerate(cases):
            codes = self.doctor.next_questions(answers[i], asked[i], rng, self.candidates_per_turn)
            for code in codes:
                wordings = list(self.bank.variants(code))
                rng.shuffle(wordings)
                options.append((i, code, wordings[: self.wordings_per_question]))
        understood: dict[tuple[int, str], str] = {}
        for attempt in range(self.wordings_per_question):
            probes = [(i, code, w[attempt]) for i, code, w in options
                      if attempt < len(w) and (i, code) not in understood]
            if not probes:
                break
            candidates = {i: self.patient.candidates(cases[i]) for i in {i for i, _, _ in probes}}
            hits = self.patient.matcher.match([q for _, _, q in probes], [candidates[i] for i, _, _ in probes])
            for (i, code, question), found in zip(probes, hits):
                self.stats.probes += 1
                if found and found[0].finding.id == code:
                    understood[(i, code)] = question
                else:
                    self.stats.misunderstood += 1
        chosen = [[] for _ in cases]
        for i, code, _ in options:
            if (i, code) in understood and len(chosen[i]) < self.questions_per_turn:
                chosen[i].append((code, understood[(i, code)]))
        return chosen

    def _finish(self, cases, source, answers, turns, replies_of, rng) -> list[Demonstration]:
        """The last turn (differential and final diagnosis), then the judge's score of each episode."""
        episodes = []
        for i, case in enumerate(cases):
            leading = self.doctor.leading(answers[i], 3)
            names = [name for name, _ in leading]
            positives = [self.doctor.findings[c].label for c, present in answers[i].items() if present][-2:]
            body = [f"Differential: {', '.join(names)}", f"Final diagnosis: {names[0]}"]
            text, _ = compose(final_reasons(leading, positives, rng), body, "\n", self.fits, keep=2)
            turns[i].append(DemonstrationTurn(text, True))
            episodes.append(self._episode(case, i, turns[i], replies_of[i]))
        demonstrations = []
        for case, episode, score, played in zip(cases, episodes, self.judge.score_batch(episodes), turns):
            demonstrations.append(Demonstration(case.case_id, source, case.hidden_diagnosis, case.opening_statement,
                                                tuple(played), episode.final_diagnosis, top_k_hit(episode, 1),
                                                round(score.reward, 4)))
        return demonstrations

    @staticmethod
    def _episode(case: Case, group: int, turns: list[DemonstrationTurn], replies: list[PatientReply]) -> Episode:
        """The demonstration as the environment would have recorded it, for the judge."""
        episode = Episode(case, group, patient_replies=list(replies))
        for turn in turns:
            split = split_reasoning(turn.text)
            episode.doctor_turns.append(DoctorTurn([], [], turn.text, split.visible_text, split.reasoning,
                                                   split.well_formed))
        visible = episode.doctor_turns[-1].visible_text
        episode.final_diagnosis, episode.differential = final_diagnosis(visible), differential(visible)
        return episode


def bayes_doctor(reference: str):
    """(case source, naive-Bayes doctor, question bank) for a case source with a knowledge base."""
    source = case_source(reference)
    if isinstance(source, KnowledgeBaseCases):
        return source, NaiveBayesDoctor.from_knowledge_base(source.kb), QuestionBank.for_knowledge_base(source.kb)
    if isinstance(source, SampledDDXPlusCases):
        release, pathology_kb = source.release, source.pathology_kb
    elif reference.startswith("ddxplus:"):
        from grpodx.cases.ddxplus import load_pathology_kb, load_release, locate

        files = locate(reference.partition(":")[2].strip(), need_patients=False, need_kb=True)
        release = load_release(files.folder)
        pathology_kb = load_pathology_kb(files.kb, release)
    else:
        raise ConfigError(FIELD, f"{reference!r} has no knowledge base for the naive-Bayes doctor",
                          "use kb, ddxplus:DIR or ddxplus-sample:DIR")
    doctor = NaiveBayesDoctor.from_ddxplus(release, pathology_kb)
    return source, doctor, QuestionBank.for_ddxplus(doctor.codes, doctor.questions)


def token_budget(model: str, max_new_tokens: int) -> Callable[[str], bool]:
    """Does a turn fit the doctor's max_new_tokens (its ids plus the stop token)?"""
    from grpodx.doctor.loading import load_tokenizer

    tokenizer = load_tokenizer(model)
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]) + 1 <= max_new_tokens


def main(argv: list[str] | None = None) -> None:
    from grpodx.errors import one_line_errors
    from grpodx.doctor.config import DEFAULT_MODEL
    from grpodx.judges import OfflineJudge
    from grpodx.patients import OfflinePatient

    parser = entry_parser("python -m grpodx.demonstrations", __doc__)
    parser.add_argument("--cases", required=True, help="kb, ddxplus:DIR or ddxplus-sample:DIR (training cases only)")
    parser.add_argument("--n", type=int, required=True, help="episodes to write")
    parser.add_argument("--out", required=True, help="JSONL file to write")
    parser.add_argument("--seed", type=int, default=0, help="case stream and wording seed")
    parser.add_argument("--max-turns", type=int, default=5, help="the doctor's model.max_turns")
    parser.add_argument("--questions-per-turn", type=int, default=3, help="at most 3: the patient's budget")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="the doctor's model.doctor.max_new_tokens")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="whose tokenizer counts the tokens")
    with one_line_errors("python -m grpodx.demonstrations --help"):
        args = parser.parse_args(argv)
        if args.n < 1 or args.max_turns < 2 or not 1 <= args.questions_per_turn <= 3 or args.max_new_tokens < 16:
            raise ConfigError("--n/--max-turns/--questions-per-turn/--max-new-tokens", "out of range",
                              "use --n >= 1, --max-turns >= 2, 1-3 questions per turn, --max-new-tokens >= 16")
        source, doctor, bank = bayes_doctor(args.cases)
        fits = token_budget(args.model, args.max_new_tokens)
    player = BayesPlayer(doctor, bank, OfflinePatient(), OfflineJudge(), args.max_turns, args.questions_per_turn,
                             fits)
    rng, written = random.Random(args.seed), []
    Path(args.out).expanduser().parent.mkdir(parents=True, exist_ok=True)
    with open(Path(args.out).expanduser(), "w", encoding="utf-8") as handle:
        for start in range(0, args.n, 100):  # training cases only: train_case, never held_out
            cases = [source.train_case(i, args.seed) for i in range(start, min(start + 100, args.n))]
            for demonstration in player.play(cases, args.cases, rng):
                handle.write(demonstration.to_json() + "\n")
                written.append(demonstration)
            print(f"{len(written)}/{args.n} episodes", file=sys.stderr)
    stats, n = player.stats, len(written)
    summary = {"episodes": n, "top1": round(sum(d.top1 for d in written) / n, 4),
               "reward": round(sum(d.reward for d in written) / n, 4),
               "misunderstood_wordings": round(stats.misunderstood_rate, 4), "probes": stats.probes,
               "questions_per_turn": round(sum(stats.questions) / max(len(stats.questions), 1), 3),
               "questions_dropped_for_length": stats.dropped_for_length, "out": args.out}
    print(f"naive-Bayes doctor top-1 {summary['top1']:.3f} over {n} written episodes", file=sys.stderr)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
