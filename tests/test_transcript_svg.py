"""A transcript record renders as an SVG picture with every turn and the hidden reasoning marked."""

import json

from grpodx.report.transcript_svg import main


def test_transcript_svg(tmp_path):
    record = {"step": 3, "hidden_diagnosis": "Migraine", "icd10": "G43.9", "final_diagnosis": "Migraine",
              "reward": 0.9, "diagnosis_level": "exact", "breakdown": {"diagnosis": 1.0, "format": 0.5},
              "turns": [{"role": "patient", "text": "My head hurts."},
                        {"role": "doctor", "text": "Any nausea?", "reasoning": "think migraine"},
                        {"role": "patient", "text": "Yes."}]}
    source = tmp_path / "t.jsonl"
    source.write_text(json.dumps(record) + "\n")
    main([str(source), str(tmp_path / "t.svg")])
    svg = (tmp_path / "t.svg").read_text()
    assert svg.startswith("<svg") and "Doctor" in svg and "hidden" in svg and "Migraine" in svg
