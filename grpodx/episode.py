"""Values that travel from the environment to the judge, the loss and the callbacks."""

from __future__ import annotations

from dataclasses import dataclass, field

from grpodx.cases import Case


@dataclass(frozen=True)
class Match:
    """A finding the patient understood a question to be about, and the truth it answered with.

    `present` is True/False for recorded findings and None for findings the case does not record.
    """

    finding: str
    present: bool | None
    value: str


@dataclass(frozen=True)
class PatientReply:
    """What the patient said, plus what it matched (for tests, transcripts and the judge)."""

    text: str
    matched: tuple[Match, ...] = ()
    failed: bool = False
    error: str = ""
    questions: int = 0  # questions the doctor asked in the turn, answered or over the budget


@dataclass(frozen=True)
class MeasurementReply:
    """What the examinations and tests said to the doctor's requests in one turn (grpodx.measurements):
    empty when nothing was requested; `tests` requests answered, `dropped` left over the budget."""

    text: str = ""
    tests: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class DoctorTurn:
    """One sampled doctor turn: the exact prompt and sampled token ids, and the split text."""

    prompt_ids: list[int]
    completion_ids: list[int]
    text: str
    visible_text: str
    reasoning: str
    well_formed: bool


@dataclass(frozen=True)
class Score:
    """The judge's reward in [0, 1] and its named parts (each in [0, 1])."""

    reward: float
    parts: dict[str, float]
    diagnosis_level: str = "none"
    failed: bool = False
    error: str = ""
    rationale: str = ""


class Dialogue:
    """The views of one conversation that its parties get, one rule each; a training Episode and the
    chat's Conversation share them. Needs `opening_statement`, `doctor_turns` and `reply_texts()`."""

    opening_statement: str
    doctor_turns: list[DoctorTurn]

    def reply_texts(self) -> list[str]:
        raise NotImplementedError

    def result_texts(self) -> list[str]:
        """Examination and test results per answered turn ("" where none): the doctor's, never the patient's."""
        return []

    def visible_history(self) -> list[tuple[str, str]]:
        """The doctor's view: (its visible text, the reply and any results) pairs; its hidden reasoning
        never re-enters."""
        results = self.result_texts()
        return [(t.visible_text, _joined(r, results[i] if i < len(results) else ""))
                for i, (t, r) in enumerate(zip(self.doctor_turns, self.reply_texts()))]

    def patient_view(self) -> list[dict]:
        """What the patient may know of the conversation: visible text only, never reasoning."""
        view = [{"role": "patient", "text": self.opening_statement}]
        for turn, patient_text in zip(self.doctor_turns, self.reply_texts()):
            view += [{"role": "doctor", "text": turn.visible_text}, {"role": "patient", "text": patient_text}]
        return view

    def transcript(self) -> list[dict]:
        """The judge's and the reader's view (JSON-ready): every turn, the doctor's reasoning apart."""
        lines = [{"role": "patient", "text": self.opening_statement}]
        replies, results = self.reply_texts(), self.result_texts()
        for i, turn in enumerate(self.doctor_turns):
            lines.append({"role": "doctor", "text": turn.visible_text, "reasoning": turn.reasoning,
                          "well_formed": turn.well_formed, **self._doctor_details(turn)})
            if i < len(replies) and (replies[i] or not (i < len(results) and results[i])):
                lines.append({"role": "patient", "text": replies[i], **self._reply_details(i)})
            if i < len(results) and results[i]:
                lines.append({"role": "results", "text": results[i]})
        return lines

    def _doctor_details(self, turn: DoctorTurn) -> dict:
        return {}

    def _reply_details(self, index: int) -> dict:
        return {}


@dataclass
class Episode(Dialogue):
    """One conversation of one group: doctor turns, patient replies, the end and the score."""

    case: Case
    group: int
    doctor_turns: list[DoctorTurn] = field(default_factory=list)
    patient_replies: list[PatientReply] = field(default_factory=list)
    measurements: list[MeasurementReply] = field(default_factory=list)  # one per answered turn
    final_diagnosis: str | None = None
    differential: list[str] = field(default_factory=list)
    score: Score | None = None

    @property
    def finished(self) -> bool:
        return self.final_diagnosis is not None or self.failed

    @property
    def failed(self) -> bool:
        """A failed API call makes the episode unusable: it never gets a made-up reward."""
        return any(r.failed for r in self.patient_replies) or (self.score is not None and self.score.failed)

    @property
    def num_turns(self) -> int:
        return len(self.doctor_turns)

    @property
    def questions_asked(self) -> int:
        """Questions over the whole episode, as the patient counted them (published
        interactive-diagnosis results are quoted per number of questions)."""
        return sum(r.questions for r in self.patient_replies) + sum(m.dropped for m in self.measurements)

    @property
    def tests_requested(self) -> int:
        """Examinations and tests the doctor asked for (each also counted against the turn's budget)."""
        return sum(m.tests for m in self.measurements)

    @property
    def opening_statement(self) -> str:
        return self.case.opening_statement

    def reply_texts(self) -> list[str]:
        return [r.text for r in self.patient_replies]

    def result_texts(self) -> list[str]:
        return [m.text for m in self.measurements]

    def _reply_details(self, index: int) -> dict:
        return {"matched": [m.__dict__ for m in self.patient_replies[index].matched]}


def _joined(reply: str, results: str) -> str:
    """What the doctor reads back after a turn: the patient's words, then the results on their own line."""
    return "\n".join(part for part in (reply, f"[Results] {results}" if results else "") if part)
