"""The case type: a frozen, hashable value every episode of a group shares."""

import dataclasses

import pytest

from grpodx.cases import Case, Finding


def test_case_type_is_hashable_and_frozen():
    case = Case("c", "X", "A00", "infectious", 30, "female", "ill", (), (), ())
    assert hash(case) == hash(Case("c", "X", "A00", "infectious", 30, "female", "ill", (), (), ()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.hidden_diagnosis = "Y"


def test_source_vocabulary_rides_on_the_case_without_changing_its_identity():
    """What the source knows (its findings and condition names) is shared, not part of the case."""
    plain = Case("c", "X", "A00", "infectious", 30, "female", "ill", (), (), ())
    rich = dataclasses.replace(plain, condition_names=(("X", "x-alias"), ("Y",)),
                               vocabulary=(Finding("E_1", "fever", ("fever",), "I'm not sure about fever."),))
    assert rich == plain and hash(rich) == hash(plain) and repr(rich) == repr(plain)
    assert rich.condition_names[0] == ("X", "x-alias") and not plain.condition_names
