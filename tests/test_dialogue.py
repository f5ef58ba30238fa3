"""The documented rules for hidden reasoning and the final diagnosis line."""

from grpodx.dialogue import final_diagnoses, final_diagnosis, split_reasoning


def test_well_formed_turn():
    s = split_reasoning("<reason>fever and cough suggest infection</reason> Do you have chest pain?")
    assert s.visible_text == "Do you have chest pain?"
    assert s.reasoning == "fever and cough suggest infection"
    assert s.well_formed


def test_no_reason_block_is_visible_but_not_well_formed():
    s = split_reasoning("Do you smoke?")
    assert (s.visible_text, s.reasoning, s.well_formed) == ("Do you smoke?", "", False)


def test_unclosed_reason_hides_everything_after_it():
    s = split_reasoning("Any fever? <reason>maybe pneumonia, ask about")
    assert s.visible_text == "Any fever?"
    assert "pneumonia" in s.reasoning and "pneumonia" not in s.visible_text
    assert not s.well_formed


def test_stray_closing_tag_hides_what_came_before():
    s = split_reasoning("thinking it is migraine</reason> Does light bother you?")
    assert s.visible_text == "Does light bother you?"
    assert "migraine" in s.reasoning
    assert not s.well_formed


def test_nested_blocks_are_hidden_whole_and_not_well_formed():
    s = split_reasoning("<reason>a <reason>b</reason> c</reason> Is it worse at night?")
    assert s.visible_text == "Is it worse at night?"
    assert all(w in s.reasoning for w in "abc")
    assert not s.well_formed


def test_two_blocks_or_empty_visible_text_are_not_well_formed():
    assert not split_reasoning("<reason>x</reason> Q? <reason>y</reason>").well_formed
    assert not split_reasoning("<reason>only thinking</reason>").well_formed
    assert split_reasoning("<REASON>x</Reason> Q?").well_formed  # tags are case-insensitive


def test_final_diagnosis_first_line_counts():
    text = "Thanks.\nFinal diagnosis: **Acute appendicitis**.\nFinal Diagnosis - gastroenteritis"
    assert final_diagnoses(text) == ["Acute appendicitis", "gastroenteritis"]
    assert final_diagnosis(text) == "Acute appendicitis"
    assert final_diagnosis("final diagnosis:   ") is None
    assert final_diagnosis("No diagnosis yet") is None
    assert len(final_diagnosis("Final diagnosis: " + "x" * 1000)) == 120


def test_differential_lists_before_the_final_line():
    from grpodx.dialogue import differential

    assert differential("Differential: GERD, angina; MI.\nFinal diagnosis: GERD") == ["GERD", "angina", "MI"]
    text = "Likely:\n1. Migraine\n2) Tension headache\n- Cluster headache\nFinal diagnosis: Migraine"
    assert differential(text) == ["Migraine", "Tension headache", "Cluster headache"]
    assert differential("Final diagnosis: Migraine\n1. after the final line is ignored") == []
