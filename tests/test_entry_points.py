"""Every entry point is a console script, and bad input ends each with one `error:` line, exit 2."""

import importlib
import tomllib

import pytest

from tests.conftest import ROOT


def _scripts() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def test_console_scripts_name_callable_mains():
    scripts = _scripts()
    assert {"grpodx-train", "grpodx-chat", "grpodx-evaluate", "grpodx-demonstrations"} <= set(scripts)
    for name, target in scripts.items():
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function)), name


@pytest.mark.parametrize("target, argv, field", [
    ("grpodx.report.transcript_svg:main", ["/nonexistent/transcripts.jsonl", "out.svg"], "transcripts"),
    ("grpodx.patients.ask:main", ["--cases", "nosuchsource", "--index", "0"], "cases"),
])
def test_bad_input_is_one_line_and_exit_2(target, argv, field, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module, function = target.split(":")
    with pytest.raises(SystemExit) as exit_:
        getattr(importlib.import_module(module), function)(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "\n" not in error and field in error, error
