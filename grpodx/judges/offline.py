"""An offline judge grounded in the knowledge base: no API, deterministic, with a breakdown."""

from __future__ import annotations

from grpodx.episode import Episode, Score
from grpodx.errors import ConfigError
from grpodx.judges.base import Judge, validate_weights, weighted_reward
from grpodx.judges.diagnosis_credit import DiagnosisCredit, diagnosis_credit
from grpodx.cases.knowledge import embedded_knowledge_base

PARTS = ("diagnosis", "final_given", "format", "findings")


class OfflineJudge(Judge):
    """Scores diagnosis (with ontology partial credit), whether one was given, `<reason>` format and
    how many of the case's key findings the doctor's questions uncovered.

    Args:
        weights: weight of each part in the reward (parts: diagnosis, final_given, format, findings).
        category_credit: credit for a diagnosis in the same ICD-10 3-character category.
        organ_system_credit: credit for a diagnosis of the same organ system or ICD-10 chapter.
        differential_credit: credit for the top entry of a recorded differential (DDXPlus cases),
            falling linearly with its rank.
    """

    def __init__(self, weights: dict[str, float] | None = None, category_credit: float = 0.5,
                 organ_system_credit: float = 0.2, differential_credit: float = 0.4):
        self.weights = dict(weights or {"diagnosis": 0.6, "final_given": 0.1, "format": 0.1, "findings": 0.2})
        validate_weights(self.weights, PARTS, "judge.init_args.weights")
        for name, value in (("category_credit", category_credit), ("organ_system_credit", organ_system_credit),
                            ("differential_credit", differential_credit)):
            if not 0 <= value <= 1:
                raise ConfigError(f"judge.init_args.{name}", f"must be in [0, 1], got {value}", "use e.g. 0.5")
        self.credit = DiagnosisCredit(1.0, category_credit, organ_system_credit, differential_credit)
        self._kb = embedded_knowledge_base()

    def score(self, episode: Episode) -> Score:
        case = episode.case
        credit, level = diagnosis_credit(episode.final_diagnosis, case, self._kb, self.credit)
        turns = episode.doctor_turns
        asked = {m.finding for r in episode.patient_replies for m in r.matched if m.present is not None}
        keys = set(case.key_findings)
        parts = {
            "diagnosis": credit,
            "final_given": float(episode.final_diagnosis is not None),
            "format": sum(t.well_formed for t in turns) / len(turns) if turns else 0.0,
            "findings": len(asked & keys) / len(keys) if keys else 0.0,
        }
        return Score(weighted_reward(parts, self.weights), parts, level)
