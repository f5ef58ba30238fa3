"""The naive-Bayes doctor on DDXPlus patients: its last line is JSON and it beats random questions."""

import json
import subprocess
import sys

import pytest

from grpodx.baseline import NaiveBayesDoctor
from grpodx.cases.ddxplus import CaseBuilder, PatientFile, load_pathology_kb, load_release
from tests.conftest import ROOT


@pytest.mark.slow  # a subprocess loads a model
def test_bayes_doctor_beats_random_questions(ddxplus_dir):
    result = subprocess.run(
        [sys.executable, "-m", "grpodx.baseline", "--cases", f"ddxplus:{ddxplus_dir / 'dev_patients.csv'}",
         "--n", "60", "--max-turns", "5"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"top1", "top3", "reward", "turns", "random_top1"} <= set(figures)
    assert figures["top1"] > figures["random_top1"] + 0.05
    assert figures["top3"] >= figures["top1"] and figures["turns"] == 5


@pytest.mark.slow  # plays DDXPlus patients both ways: ~12 s
def test_bayes_doctor_starts_from_the_opening_complaint(ddxplus_dir):
    """The complaint is read by meaning to the patient's INITIAL_EVIDENCE, which moves the posterior."""
    release = load_release(ddxplus_dir)
    doctor = NaiveBayesDoctor.from_ddxplus(release, load_pathology_kb(ddxplus_dir / "kb_en.json", release))
    builder, patients = CaseBuilder(release), PatientFile(ddxplus_dir / "dev_patients.csv", release)
    records = [patients.record(row) for row in range(0, 600, 30)]
    complaints = [builder.case(record, f"c{i}").opening_complaint for i, record in enumerate(records)]
    read = doctor.read_complaints(complaints)
    assert read == [{record.initial_evidence: True} for record in records]
    assert not doctor.posterior(read[0]).allclose(doctor.posterior({}))


def test_non_ddxplus_source_is_one_line(capsys):
    from grpodx.baseline import main

    with pytest.raises(SystemExit) as exit_:
        main(["--cases", "kb"])
    assert exit_.value.code == 2 and capsys.readouterr().err.strip().startswith("error: --cases")
