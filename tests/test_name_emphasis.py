"""Condition-name spans and their token weights (pure functions, checked by hand)."""

from grpodx.name_emphasis import name_spans, token_weights


def test_names_are_found_as_whole_words_longest_first_without_overlap():
    text = "Leading: Acute pulmonary edema, then URTI. Final diagnosis: urti"
    names = ("URTI", "Acute pulmonary edema", "pulmonary edema", "edema", "Pneumonia")
    spans = name_spans(text, names)
    assert [text[s:e] for s, e in spans] == ["Acute pulmonary edema", "URTI", "urti"]


def test_a_name_inside_a_longer_word_is_not_a_name():
    assert name_spans("Asthmatic? No: asthma.", ("asthma",)) == [(15, 21)]


def test_tokens_overlapping_a_span_take_the_weight_and_the_rest_one():
    # "Most likely URTI." as tokens "Most", " likely", " URT", "I", "."
    offsets = [(0, 4), (4, 11), (11, 15), (15, 16), (16, 17)]
    assert token_weights(offsets, [(12, 16)], 5.0) == [1.0, 1.0, 5.0, 5.0, 1.0]
    assert token_weights(offsets, [], 5.0) == [1.0] * 5
