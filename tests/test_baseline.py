"""The reference doctor on DDXPlus patients: its last line is JSON and it beats random questions."""

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_reference_doctor_beats_random_questions(ddxplus_dir):
    result = subprocess.run(
        [sys.executable, "-m", "grpodx.baseline", "--cases", f"ddxplus:{ddxplus_dir / 'dev_patients.csv'}",
         "--n", "60", "--max-turns", "5"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"top1", "top3", "reward", "turns", "random_top1"} <= set(figures)
    assert figures["top1"] > figures["random_top1"] + 0.05
    assert figures["top3"] >= figures["top1"] and figures["turns"] == 5


def test_non_ddxplus_source_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "grpodx.baseline", "--cases", "kb"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip().startswith("error: --cases")
