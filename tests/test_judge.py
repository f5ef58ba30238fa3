"""The offline judge: ontology partial credit and a weighted breakdown in [0, 1]."""

import random

import pytest

from grpodx.cases import Case
from grpodx.episode import DoctorTurn, Episode, Match, PatientReply
from grpodx.judges import OfflineJudge
from grpodx.judges.diagnosis_credit import diagnosis_credit
from grpodx.knowledge import sample_case


def _case(kb, name):
    return sample_case(kb, kb.condition(name), random.Random(0), "j")


def _pair_in_same(kb, key):
    """Two different conditions sharing `key` (ICD-10 category or organ system) but not the other."""
    for a in kb.conditions:
        for b in kb.conditions:
            if a is b:
                continue
            same_cat = a.icd10[:3] == b.icd10[:3]
            if key == "category" and same_cat:
                return a, b
            if key == "organ_system" and not same_cat and a.organ_system == b.organ_system:
                return a, b
    return None


def test_exact_alias_and_normalised_names(kb):
    condition = kb.conditions[0]
    case = _case(kb, condition.name)
    for answer in (condition.name, condition.name.upper() + ".", f"Possible {condition.aliases[0]}",
                   f"**{condition.name}** (most likely)"):
        assert diagnosis_credit(answer, case, kb) == (1.0, "exact"), answer


def test_partial_credit_levels(kb):
    pair = _pair_in_same(kb, "organ_system")
    assert pair, "the knowledge base needs two conditions of one organ system"
    a, b = pair
    assert diagnosis_credit(b.name, _case(kb, a.name), kb) == (0.2, "organ_system")
    same_category = _pair_in_same(kb, "category")
    if same_category:
        a, b = same_category
        assert diagnosis_credit(b.name, _case(kb, a.name), kb) == (0.5, "category")
    other = next(c for c in kb.conditions if c.organ_system != a.organ_system and c.icd10[:3] != a.icd10[:3])
    assert diagnosis_credit(other.name, _case(kb, a.name), kb) == (0.0, "wrong")
    assert diagnosis_credit(None, _case(kb, a.name), kb) == (0.0, "missing")
    assert diagnosis_credit("banana", _case(kb, a.name), kb) == (0.0, "unrecognised")


def test_score_breakdown_and_weights(kb):
    case = _case(kb, kb.conditions[0].name)
    episode = Episode(case, 0)
    episode.doctor_turns = [DoctorTurn([], [], "", "Any fever?", "r", True),
                            DoctorTurn([], [], "", f"Final diagnosis: {case.hidden_diagnosis}", "", False)]
    key = case.key_findings[0]
    episode.patient_replies = [PatientReply("yes", (Match(key, True, "yes"),))]
    episode.final_diagnosis = case.hidden_diagnosis
    score = OfflineJudge().score(episode)
    assert score.parts == pytest.approx({"diagnosis": 1.0, "final_given": 1.0, "format": 0.5,
                                         "findings": 1 / len(case.key_findings)})
    expected = 0.6 + 0.1 + 0.1 * 0.5 + 0.2 / len(case.key_findings)
    assert score.reward == pytest.approx(expected)
    only_diag = OfflineJudge(weights={"diagnosis": 1.0}).score(episode)
    assert only_diag.reward == 1.0
    episode.final_diagnosis = None
    assert OfflineJudge().score(episode).parts["diagnosis"] == 0.0


def test_bad_weights_are_rejected():
    from grpodx.errors import ConfigError

    with pytest.raises(ConfigError, match="judge.init_args.weights"):
        OfflineJudge(weights={"diagnosis": 1.0, "empathy": 1.0})
    with pytest.raises(ConfigError):
        OfflineJudge(weights={"diagnosis": 0.0})


def test_case_type_is_hashable_and_frozen():
    case = Case("c", "X", "A00", "infectious", 30, "female", "ill", (), (), ())
    assert hash(case)


def test_recorded_differential_rank_gives_decreasing_credit(kb):
    from dataclasses import replace

    a = kb.conditions[0]
    others = [c for c in kb.conditions if c.organ_system != a.organ_system and c.icd10[0] != a.icd10[0]]
    case = replace(_case(kb, a.name), differential=(a.name, others[0].name, others[1].name, "Something else"))
    first = diagnosis_credit(others[0].name, case, kb)
    second = diagnosis_credit(others[1].name, case, kb)
    assert first == (pytest.approx(0.4 * 3 / 4), "differential")
    assert second == (pytest.approx(0.4 * 2 / 4), "differential")


def test_top3_counts_the_listed_differential(kb):
    from grpodx.episode_metrics import top_k_hit

    case = _case(kb, kb.conditions[0].name)
    episode = Episode(case, 0)
    episode.final_diagnosis, episode.differential = "banana", ["apple", case.hidden_diagnosis]
    assert top_k_hit(episode, 3) and not top_k_hit(episode, 2)
    episode.final_diagnosis = None
    assert not top_k_hit(episode, 3)
