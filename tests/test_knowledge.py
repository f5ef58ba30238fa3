"""The embedded knowledge base is complete, consistent and never leaks a diagnosis to the patient."""

import random
import re

from grpodx.cases.sources import KnowledgeBaseCases
from grpodx.cases.knowledge import sample_case
from grpodx.cases.names import mentions

ICD10 = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$")


def test_at_least_40_conditions_across_organ_systems(kb):
    assert len(kb.conditions) >= 40
    assert len({c.organ_system for c in kb.conditions}) >= 10
    assert len({c.name for c in kb.conditions}) == len(kb.conditions)


def test_every_condition_is_well_formed(kb):
    for c in kb.conditions:
        assert ICD10.match(c.icd10), (c.name, c.icd10)
        assert len(c.frequencies) >= 8, c.name
        assert set(c.frequencies) <= set(kb.findings), (c.name, set(c.frequencies) - set(kb.findings))
        assert set(c.key_findings) <= set(c.frequencies), c.name
        assert all(0 < p <= 1 for p in c.frequencies.values()), c.name
        assert c.aliases and c.opening_complaint


def test_patient_facing_text_never_names_a_condition(kb):
    names = tuple(n for c in kb.conditions for n in (c.name, *c.aliases))
    texts = [c.opening_complaint for c in kb.conditions] + [d for c in kb.conditions for d in c.details.values()]
    texts += [f.present for f in kb.findings.values()] + [f.absent for f in kb.findings.values()]
    leaks = [t for t in texts if mentions(t, names)]
    assert not leaks


def test_sampled_cases_are_deterministic_and_recognisable(kb):
    condition = kb.conditions[0]
    a = sample_case(kb, condition, random.Random(5), "a")
    b = sample_case(kb, condition, random.Random(5), "a")
    assert a == b
    present = {f.id for f in a.present}
    assert set(condition.key_findings[:2]) <= present
    assert not present & {f.id for f in a.absent}


def test_held_out_split_is_fixed_and_covers_conditions(kb):
    source = KnowledgeBaseCases(kb)
    held_out = source.held_out(len(kb.conditions), seed=1)
    assert held_out == source.held_out(len(kb.conditions), seed=1)
    assert {c.hidden_diagnosis for c in held_out} == {c.name for c in kb.conditions}
    train_ids = {source.train_case(i, seed=1).case_id for i in range(50)}
    assert not train_ids & {c.case_id for c in held_out}


def test_a_small_held_out_set_spans_the_organ_systems(kb):
    """The default 8 held-out cases were 7 cardiovascular conditions and cellulitis (issue 16)."""
    systems = {c.organ_system for c in kb.conditions}
    for size in (8, len(systems)):
        held_out = KnowledgeBaseCases(kb).held_out(size, seed=1234)
        assert len({c.organ_system for c in held_out}) == size  # one organ system each, while they last
        assert len({c.hidden_diagnosis for c in held_out}) == size
