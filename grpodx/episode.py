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


@dataclass
class Episode:
    """One conversation of one group: doctor turns, patient replies, the end and the score."""

    case: Case
    group: int
    doctor_turns: list[DoctorTurn] = field(default_factory=list)
    patient_replies: list[PatientReply] = field(default_factory=list)
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
        return sum(r.questions for r in self.patient_replies)

    def transcript(self) -> list[dict]:
        """The whole conversation as the judge sees it: doctor text with its reasoning marked."""
        lines = [{"role": "patient", "text": self.case.opening_statement}]
        for i, turn in enumerate(self.doctor_turns):
            lines.append({"role": "doctor", "text": turn.visible_text, "reasoning": turn.reasoning,
                          "well_formed": turn.well_formed})
            if i < len(self.patient_replies):
                reply = self.patient_replies[i]
                lines.append({"role": "patient", "text": reply.text,
                              "matched": [m.__dict__ for m in reply.matched]})
        return lines
