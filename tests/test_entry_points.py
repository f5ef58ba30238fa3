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


@pytest.mark.parametrize("target, argv, field", [
    ("grpodx.chat:main", ["--max-turns", "many"], "max_turns"),
    ("grpodx.evaluate:main", ["--compare-base"], "out"),
    ("grpodx.baseline:main", ["--cases", "ddxplus:x", "--n", "lots"], "n"),
    ("grpodx.demonstrations:main", ["--cases", "kb", "--out", "d.jsonl"], "n"),
    ("grpodx.patients.ask:main", ["--cases", "kb", "--index", "first"], "index"),
    ("grpodx.report.transcript_svg:main", ["t.jsonl", "out.svg", "--index", "first"], "index"),
    ("grpodx.lora_average:main", ["a.ckpt", "b.ckpt"], "out"),
])
def test_every_entry_point_parses_with_jsonargparse_and_fails_in_one_line(target, argv, field, capsys, tmp_path,
                                                                         monkeypatch):
    """A wrong type or a missing option: one `error:` line naming it, exit 2 (argparse printed the
    usage block and its own error line, and exited before grpodx's one-line rule ran)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["prog"])
    module, function = target.split(":")
    with pytest.raises(SystemExit) as exit_:
        getattr(importlib.import_module(module), function)(argv)
    error = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and error.startswith("error: ") and "\n" not in error and field in error, error


def test_entry_points_take_a_config_file(capsys, tmp_path):
    from grpodx.patients.ask import main

    config = tmp_path / "ask.yaml"
    config.write_text("cases: nosuchsource\nindex: 0\n")
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(config)])
    error = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and "nosuchsource" in error, error  # the file's values were read
