"""A run killed with SIGKILL mid-training resumes from `last` and finishes."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import ROOT


def _command(tiny_model_dir, save_dir, *extra):
    return [sys.executable, "train.py", "fit", "--config", "configs/default.yaml",
            "--trainer.logger.init_args.save_dir", str(save_dir), "--model.doctor.model", tiny_model_dir,
            "--model.doctor.max_new_tokens", "8", "--model.doctor.dtype", "float32", "--model.group_size", "2",
            "--model.max_turns", "2", "--data.batch_size", "1", "--data.val_size", "1",
            "--model.judge", "tests.conftest.ParityJudge", "--checkpoint.every_n_train_steps", "1",
            "--transcripts.console", "false", "--progress.enabled", "false", *extra]


@pytest.mark.slow  # a subprocess loads a model
def test_sigkill_mid_run_then_resume_from_last(tiny_model_dir, tmp_path):
    process = subprocess.Popen(_command(tiny_model_dir, tmp_path, "--trainer.max_steps", "1000"), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    last = tmp_path / "default" / "version_0" / "checkpoints" / "last.ckpt"
    deadline = time.time() + 240
    try:
        while time.time() < deadline and not (last.exists() and torch.load(last, weights_only=True)["global_step"] >= 2):
            time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    killed_at = torch.load(last, weights_only=True)["global_step"]
    assert killed_at >= 2
    result = subprocess.run(_command(tiny_model_dir, tmp_path, "--ckpt_path", "last",
                                     "--trainer.max_steps", str(killed_at + 1)),
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    resumed = tmp_path / "default" / "version_1" / "checkpoints" / "last.ckpt"
    assert torch.load(resumed, weights_only=True)["global_step"] == killed_at + 1
