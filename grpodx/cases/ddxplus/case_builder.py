"""A DDXPlus patient record becomes the project's Case: findings in the patient's own words.

What the patient knows (decided here, documented in the README):
- present: every recorded evidence whose value is not the release's default ("nowhere", "N", 0);
- absent ("no"): evidences the release lists for the pathology (symptoms and antecedents) that the
  record lacks or records at their default, since DDXPlus asked about them and got "no";
- unknown ("I'm not sure"): every other evidence of the release, carried as the case's vocabulary.
"""

from __future__ import annotations

from grpodx.cases.case import Case, Finding
from grpodx.cases.ddxplus.cues import CUES, MISLEADING_QUESTIONS
from grpodx.cases.ddxplus.pathology_kb import PathologyEntry, organ_system_of
from grpodx.cases.ddxplus.phrasing import value_sentence, yes_no_sentences
from grpodx.cases.ddxplus.records import PatientRecord
from grpodx.cases.ddxplus.release import Evidence, Release
from grpodx.cases.names import mentions

NOT_WELL = "I haven't been feeling well."
_NOT_DIAGNOSES = {"viremia", "viral syndrome", "typical viremic syndrome"}  # too vague to count as the answer


def _answer(prefix: str, sentence: str) -> str:
    """'Yes, ' + sentence, keeping 'I' capitalised."""
    first = sentence if sentence.startswith(("I ", "I'")) else sentence[0].lower() + sentence[1:]
    return f"{prefix}, {first}"


class CaseBuilder:
    """Turns records of one release (plus optional kb_en.json) into Cases sharing one vocabulary."""

    def __init__(self, release: Release, pathology_kb: dict[str, PathologyEntry] | None = None):
        self.release, self.pathology_kb = release, pathology_kb or {}
        self.labels = {code: (CUES.get(code) or (e.question,))[0] for code, e in release.evidences.items()}
        self.vocabulary = tuple(
            Finding(code, self.labels[code], self._cue_texts(e), f"I'm not sure about {self.labels[code]}.")
            for code, e in release.evidences.items())
        self._cues = {f.id: f.cues for f in self.vocabulary}
        self._symptom_words = tuple(c for e in release.evidences.values() if not e.is_antecedent
                                    for c in (e.question, *CUES.get(e.code, ())))
        self.condition_names = tuple((name, *self.aliases(name)) for name in release.pathologies)

    @staticmethod
    def _cue_texts(evidence: Evidence) -> tuple[str, ...]:
        """The release's question (unless misleading) and the project's cue phrases."""
        own = CUES.get(evidence.code, ())
        return own if evidence.code in MISLEADING_QUESTIONS and own else (evidence.question, *own)

    def finding(self, evidence: Evidence, statement: str) -> Finding:
        return Finding(evidence.code, self.labels[evidence.code], self._cues[evidence.code], statement)

    def present_statement(self, evidence: Evidence, values: tuple[str, ...]) -> str:
        if evidence.data_type == "B":
            return _answer("Yes", yes_no_sentences(evidence)[0])
        return value_sentence(evidence, values)

    def absent_statement(self, evidence: Evidence, record: PatientRecord) -> str:
        parent = self.release.evidences.get(evidence.parent or "")
        if parent is not None and parent.code not in record.evidences:
            return _answer("No", yes_no_sentences(parent)[1])  # "how bad is the pain?" -> "No pain."
        if evidence.data_type == "B":
            return _answer("No", yes_no_sentences(evidence)[1])
        return value_sentence(evidence, record.evidences.get(evidence.code, (evidence.default_value,)))

    def is_present(self, evidence: Evidence, values: tuple[str, ...]) -> bool:
        return evidence.data_type == "B" or any(v != evidence.default_value for v in values)

    def aliases(self, name: str) -> tuple[str, ...]:
        """kb_en.json aliases, minus those a patient would say about a symptom ('sore throat')."""
        entry = self.pathology_kb.get(name)
        kept = [a for a in (entry.aliases if entry else ()) if a.lower() != name.lower()
                and a.lower() not in _NOT_DIAGNOSES and not any(mentions(t, (a,)) for t in self._symptom_words)]
        return tuple(dict.fromkeys(kept))

    def opening_complaint(self, record: PatientRecord, names: tuple[str, ...]) -> str:
        """The initial evidence in the first person; another present symptom if it names the disease."""
        candidates = [record.initial_evidence] + [c for c in record.evidences if c != record.initial_evidence]
        for code in candidates:
            evidence = self.release.evidences[code]
            if evidence.is_antecedent or evidence.parent is not None:
                continue
            if evidence.data_type == "B":
                sentence = yes_no_sentences(evidence)[0]
            else:
                sentence = value_sentence(evidence, record.evidences[code])
            if not mentions(sentence, names):
                return sentence
        return NOT_WELL

    def case(self, record: PatientRecord, case_id: str) -> Case:
        pathology = self.release.pathologies[record.pathology]
        entry = self.pathology_kb.get(record.pathology)
        present, absent = [], []
        for code, values in record.evidences.items():
            evidence = self.release.evidences[code]
            if self.is_present(evidence, values):
                present.append(self.finding(evidence, self.present_statement(evidence, values)))
            else:
                absent.append(self.finding(evidence, self.absent_statement(evidence, record)))
        for code in pathology.evidences:
            if code not in record.evidences:
                evidence = self.release.evidences[code]
                absent.append(self.finding(evidence, self.absent_statement(evidence, record)))
        present_ids = {f.id for f in present}
        key_findings = tuple(c for c in pathology.symptoms
                             if c in present_ids and self.release.evidences[c].parent is None)
        aliases = self.aliases(record.pathology)
        return Case(
            case_id=case_id, hidden_diagnosis=record.pathology, icd10=pathology.icd10,
            organ_system=entry.organ_system if entry else organ_system_of(pathology.icd10),
            age=record.age, sex=record.sex,
            opening_complaint=self.opening_complaint(record, (record.pathology, *aliases)),
            present=tuple(present), absent=tuple(absent), key_findings=key_findings, aliases=aliases,
            differential=tuple(name for name, _ in record.differential), vocabulary=self.vocabulary,
            condition_names=self.condition_names)
