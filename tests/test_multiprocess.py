"""Two CPU processes (DDP over gloo): different cases per rank, identical weights after every step."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def test_ddp_on_two_cpu_processes(tiny_model_dir, tmp_path):
    env = {**os.environ, "GRPODX_PROBE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "train.py", "fit", "--config", "configs/default.yaml",
         "--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu",
         "--trainer.max_steps", "2", "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"),
         "--trainer.callbacks+=tests.ddp_probe.WeightProbe",
         "--model.doctor.model", tiny_model_dir, "--model.doctor.max_new_tokens", "8", "--model.doctor.dtype", "float32",
         "--model.group_size", "2", "--model.max_turns", "2", "--data.batch_size", "1", "--data.val_size", "2",
         "--model.judge", "tests.conftest.ParityJudge", "--transcripts.console", "false", "--progress.enabled", "false"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [[json.loads(line) for line in (tmp_path / f"rank{r}.jsonl").read_text().splitlines()] for r in (0, 1)]
    assert [r["step"] for r in ranks[0]] == [1, 2] == [r["step"] for r in ranks[1]]
    for a, b in zip(*ranks):
        assert a["weights"] == b["weights"]  # gradients averaged across ranks before every update
        assert not set(a["cases"]) & set(b["cases"])  # each rank trains on its own cases
        assert a["reward"] == b["reward"]  # logged metrics are reduced across ranks
    assert ranks[0][0]["weights"] != ranks[0][1]["weights"]
    assert (tmp_path / "runs" / "default" / "version_0" / "checkpoints" / "last.ckpt").is_file()
