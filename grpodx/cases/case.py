"""A clinical case: the hidden diagnosis and the findings the patient can report."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    """One thing a patient can be asked about, with their own words for it.

    `cues` are the words a doctor's question may use for it; `statement` is what the patient says
    (the recorded value for a present finding, a denial for an absent one).
    """

    id: str
    label: str
    cues: tuple[str, ...]
    statement: str


@dataclass(frozen=True)
class Case:
    """A patient with a hidden diagnosis; every episode of a group shares one Case."""

    case_id: str
    hidden_diagnosis: str
    icd10: str
    organ_system: str
    age: int
    sex: str
    opening_complaint: str
    present: tuple[Finding, ...]
    absent: tuple[Finding, ...]
    key_findings: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    differential: tuple[str, ...] = field(default=())
    # What the case's SOURCE knows, shared by all its cases (so carrying it costs nothing per case);
    # empty for the embedded knowledge base, whose patient uses the defaults:
    # - vocabulary: every finding the source can ask about. A patient answers "I'm not sure" to a
    #   question about a finding this case does not record; to tell it from one it does not
    #   understand at all, it must know them all (DDXPlus: every evidence of release_evidences.json).
    # - condition_names: every condition of the source as (name, *aliases): a patient treats a
    #   question naming any of them alike, whichever is hidden.
    vocabulary: tuple[Finding, ...] = field(default=(), repr=False, compare=False)
    condition_names: tuple[tuple[str, ...], ...] = field(default=(), repr=False, compare=False)
    # The record's examination findings and test results, each (path, value) with nested keys
    # flattened ("Neurological_Examination / Reflexes", "Normal reflexes throughout."): answered by
    # grpodx.measurements when the doctor asks, never told by the patient. Empty: "not available".
    examinations: tuple[tuple[str, str], ...] = ()
    tests: tuple[tuple[str, str], ...] = ()
    # Who speaks, in the record's words, when age and sex alone would say it wrongly ("the mother of
    # an 8-month-old boy"); empty: "a 54-year-old man".
    speaker: str = ""

    @property
    def opening_statement(self) -> str:
        """The patient's first words: who they are and their chief complaint."""
        if self.speaker:
            return f"I am {self.speaker}. {self.opening_complaint}"
        person = {"female": "woman", "male": "man"}.get(self.sex, "person")
        return f"I am a {self.age}-year-old {person}. {self.opening_complaint}"

    @property
    def diagnosis_names(self) -> tuple[str, ...]:
        """Every name that counts as the hidden diagnosis (used by the judge and the leak guard)."""
        return (self.hidden_diagnosis, *self.aliases)


@dataclass(frozen=True)
class CaseBatch:
    """The cases of one training step, with their position in the case stream (for exact resume)."""

    index: int
    cases: list[Case]
