"""Two CPU processes (DDP over gloo): different cases per rank, identical weights after every step,
and the gradient one process computes on both ranks' episodes together."""

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.conftest import ROOT
from tests.gradients import attach_recording_trainer, update_gradient

pytestmark = pytest.mark.slow  # two training processes each


def test_ddp_on_two_cpu_processes(tiny_model_dir, tmp_path):
    env = {**os.environ, "GRPODX_PROBE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "train.py", "fit", "--config", "configs/default.yaml",
         "--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu",
         "--trainer.max_steps", "2", "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"),
         "--trainer.callbacks+=tests.ddp_probe.WeightProbe",
         "--model.doctor.model", tiny_model_dir, "--model.doctor.max_new_tokens", "8", "--model.doctor.dtype", "float32",
         "--model.group_size", "2", "--model.max_turns", "2", "--data.batch_size", "1", "--data.val_size", "2",
         # batch std and an unclipped gradient: the replay below checks both are the whole step's
         "--model.grpo.scale_rewards", "batch", "--model.grpo.max_grad_norm", "1e9",
         "--model.judge", "tests.conftest.ParityJudge", "--transcripts.console", "false", "--progress.enabled", "false"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [[json.loads(line) for line in (tmp_path / f"rank{r}.jsonl").read_text().splitlines()] for r in (0, 1)]
    assert [r["step"] for r in ranks[0]] == [1, 2] == [r["step"] for r in ranks[1]]
    for a, b in zip(*ranks):
        assert a["weights"] == b["weights"]  # gradients summed across ranks before every update
        assert not set(a["cases"]) & set(b["cases"])  # each rank trains on its own cases
        assert a["reward"] == b["reward"]  # logged metrics are reduced across ranks
    assert ranks[0][0]["weights"] != ranks[0][1]["weights"]
    assert (tmp_path / "runs" / "default" / "version_0" / "checkpoints" / "last.ckpt").is_file()
    for step in (0, 1):
        replayed, ddp = _one_process_gradient(tiny_model_dir, tmp_path, step), _ddp_gradient(tmp_path, step)
        assert ddp.abs().max() > 1e-6
        torch.testing.assert_close(ddp, replayed, rtol=1e-4, atol=1e-8)


def _load(tmp_path, name, rank, step):
    return torch.load(tmp_path / f"{name}-rank{rank}-step{step}.pt", weights_only=False)


def _ddp_gradient(tmp_path, step) -> torch.Tensor:
    grads = [_load(tmp_path, "gradient", r, step) for r in (0, 1)]
    assert all(torch.equal(grads[0][n], grads[1][n]) for n in grads[0])
    return torch.cat([g.flatten() for g in grads[0].values()])


def _one_process_gradient(tiny_model_dir, tmp_path, step) -> torch.Tensor:
    """One process, the run's config and weights at `step`, both ranks' episodes in one batch."""
    from grpodx.doctor import DoctorConfig
    from grpodx.grpo_config import GRPOConfig
    from grpodx.module import DiagnosisGRPO

    module = DiagnosisGRPO(doctor=DoctorConfig(model=tiny_model_dir, max_new_tokens=8, dtype="float32"),
                           group_size=2, max_turns=2, grpo=GRPOConfig(scale_rewards="batch", max_grad_norm=1e9))
    module.configure_model()
    assert not module.load_state_dict(_load(tmp_path, "weights", 0, step), strict=False).unexpected_keys
    attach_recording_trainer(module)
    episodes = _load(tmp_path, "episodes", 0, step) + _load(tmp_path, "episodes", 1, step)
    rewards, valid = module._rewards(episodes)
    gradient, _ = update_gradient(module, episodes, rewards, valid)
    return gradient


def test_ddp_warm_start_gradient_is_the_one_process_gradient(tiny_model_dir, tmp_path):
    """Each rank divides by the whole step's doctor tokens and the gradients are summed: ranks whose
    demonstrations differ in length still make exactly the one-process update (a per-rank mean,
    averaged, would weigh the shorter rank's tokens more)."""
    demonstrations = _kb_demonstrations(tiny_model_dir, tmp_path / "kb.jsonl")
    env = {**os.environ, "GRPODX_PROBE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "train.py", "fit", "--config", "configs/warmstart.yaml",
         "--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu",
         "--trainer.max_steps", "1", "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"),
         "--trainer.callbacks+=tests.ddp_probe.WeightProbe", "--model.init_args.doctor.model", tiny_model_dir,
         "--model.init_args.doctor.max_new_tokens", "8", "--model.init_args.optimizer.max_grad_norm", "1e9",
         "--data.init_args.demonstrations", str(demonstrations), "--data.init_args.batch_size", "1",
         "--data.init_args.val_size", "2", "--transcripts.console", "false", "--progress.enabled", "false"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    played = [_load(tmp_path, "episodes", r, 0) for r in (0, 1)]
    lengths = [sum(len(t.text) for d in p for t in d.turns) for p in played]
    assert lengths[0] != lengths[1]  # the ranks' token counts differ, so the weighting matters
    ddp = _ddp_gradient(tmp_path, 0)
    assert ddp.abs().max() > 1e-6
    # configs/warmstart.yaml weighs condition names up (diagnosis_weight): the weights' sum is the step's too
    import yaml

    from grpodx.demonstration_data import condition_names
    from grpodx.demonstrations import read_demonstrations

    weight = yaml.safe_load((ROOT / "configs/warmstart.yaml").read_text())["model"]["init_args"]["optimizer"][
        "diagnosis_weight"]
    names = condition_names(read_demonstrations(demonstrations))
    torch.testing.assert_close(ddp, _one_process_warm_start_gradient(tiny_model_dir, tmp_path, played[0] + played[1],
                                                                     names, weight), rtol=1e-4, atol=1e-8)


def _kb_demonstrations(tiny_model_dir, path):
    import random

    from grpodx.demonstrations import BayesPlayer, bayes_doctor, token_budget
    from grpodx.judges import OfflineJudge
    from grpodx.patients import OfflinePatient

    source, doctor, bank = bayes_doctor("kb")
    player = BayesPlayer(doctor, bank, OfflinePatient(), OfflineJudge(), fits=token_budget(tiny_model_dir, 64))
    demonstrations = player.play([source.train_case(i, 0) for i in range(4)], "kb", random.Random(0))
    path.write_text("".join(d.to_json() + "\n" for d in demonstrations))
    return path


def _one_process_warm_start_gradient(tiny_model_dir, tmp_path, demonstrations, names, weight) -> torch.Tensor:
    """Cross-entropy over both ranks' demonstrations, each doctor token at its loss weight (the
    condition names at `weight`), divided by the weights' sum, in one process."""
    from grpodx.doctor import DoctorConfig
    from grpodx.warm_start import WarmStart, demonstration_rows

    module = WarmStart(doctor=DoctorConfig(model=tiny_model_dir, max_new_tokens=8, lora_rank=16, lora_alpha=32,
                                           dtype="float32"))
    module.configure_model()
    assert not module.load_state_dict(_load(tmp_path, "weights", 0, 0), strict=False).unexpected_keys
    rows = demonstration_rows(demonstrations, module.policy, names, weight)
    assert any(w == weight for r in rows for w in r.weights)  # some names are weighed up
    nll = -sum((log_probs() * weights).sum() for weights, log_probs in module.demonstration_log_probs(rows))
    (nll / sum(sum(r.weights) for r in rows)).backward()
    trainable = [p for p in module.parameters() if p.requires_grad]
    return torch.cat([p.grad.flatten() for p in trainable])
