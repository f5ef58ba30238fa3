"""One real run of `train.py fit` on the embedded default model, then `--ckpt_path last`."""

import json
import subprocess
import sys

import pytest
import torch

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

REQUIRED_TAGS = {"train/reward", "train/reward_std", "train/accuracy", "train/turns", "train/loss", "train/kl",
                 "train/top_final_share", "val/top_final_share", "train/clip_ratio", "train/zero_std_groups",
                 "train/doctor_tokens_per_s", "val/accuracy", "val/reward"}
SECRET = "sk-test-DO-NOT-WRITE-0123456789"


def _fit(save_dir, *extra):
    args = [sys.executable, "train.py", "fit", "--config", "configs/default.yaml",
            "--trainer.logger.init_args.save_dir", str(save_dir), "--batch-size", "2", "--model.group_size", "2",
            "--model.max_turns", "2", "--model.doctor.max_new_tokens", "24", "--data.val_size", "2",
            "--transcripts.console", "false", "--openai-api-key", SECRET,
            # float32 whatever `auto` picks: in bfloat16 (a CPU with bf16 units) the untrained doctor's
            # 2 steps scored every episode 0, so no group had a spread and the adapter stayed at zero
            "--model.doctor.dtype", "float32", *extra]
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _scalars(version_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(version_dir))
    events.Reload()
    return {tag: [e.step for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_fit_writes_curves_transcripts_checkpoint_adapter_and_resumes(tmp_path):
    from peft import PeftModel

    first = _fit(tmp_path, "--max-steps", "2", "--ckpt_path", "last")  # nothing to resume yet: a new run
    run = tmp_path / "default" / "version_0"
    assert "no checkpoint of this run name yet, so a new run starts at step 0" in first.stderr
    assert f"run folder: {run}" in first.stderr
    assert "held-out (2 cases) after step 2: reward" in first.stderr
    assert f"checkpoint: {run / 'checkpoints' / 'last.ckpt'}" in first.stderr
    assert f"adapter: {run / 'checkpoints' / 'last-adapter'}" in first.stderr
    scalars = _scalars(run)
    assert REQUIRED_TAGS <= set(scalars), REQUIRED_TAGS - set(scalars)
    assert scalars["train/reward"] == [1, 2] and scalars["val/reward"] == [2]  # steps as the console counts them

    records = [json.loads(line) for line in (run / "transcripts.jsonl").read_text().splitlines()]
    assert records and all(r["hidden_diagnosis"] and r["turns"] and r["breakdown"] for r in records)

    last = run / "checkpoints" / "last.ckpt"
    assert last.stat().st_size < 100 * 2**20
    checkpoint = torch.load(last, weights_only=True)
    assert checkpoint["global_step"] == 2 and all("lora_" in k for k in checkpoint["state_dict"])

    from grpodx.doctor import DoctorConfig
    from grpodx.doctor.loading import load_base_model

    base, _ = load_base_model(DoctorConfig())
    adapter = PeftModel.from_pretrained(base, run / "checkpoints" / "last-adapter")
    trained = {n: p for n, p in adapter.named_parameters() if "lora_B" in n}  # B starts at zero
    assert trained and any(p.abs().sum() > 0 for p in trained.values())
    for name, param in trained.items():  # the adapter holds the checkpoint's weights
        assert torch.equal(param.detach(), checkpoint["state_dict"]["policy.model." + name].to(param.dtype)), name

    again = _fit(tmp_path, "--ckpt_path", "last", "--max-steps", "3")
    assert f"resuming from {run / 'checkpoints' / 'last.ckpt'}" in again.stderr
    resumed = tmp_path / "default" / "version_1"
    assert torch.load(resumed / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3
    assert min(_scalars(resumed)["train/loss"]) > max(scalars["train/loss"])

    for path in tmp_path.rglob("*"):  # the API key never lands on disk
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
