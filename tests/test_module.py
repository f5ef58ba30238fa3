"""The LightningModule on a tiny random model: updates LoRA only, checkpoints LoRA only, resumes
on the exact case stream position, exports a PEFT adapter."""

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from callbacks import AdapterCheckpoint, RewardMetrics, TranscriptLogger, ValidateAtEnd
from grpodx.data import CaseDataModule
from grpodx.doctor import DoctorConfig
from grpodx.errors import ConfigError
from grpodx.grpo_config import GRPOConfig
from grpodx.module import DiagnosisGRPO
from grpodx.patients import OfflinePatient
from tests.conftest import ParityJudge


class CaseRecorder(L.Callback):
    def __init__(self):
        self.cases = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.cases.append([c.case_id for c in batch.cases])


def _fit(tiny_model_dir, root, max_steps, ckpt_path=None, **grpo):
    module = DiagnosisGRPO(doctor=DoctorConfig(model=tiny_model_dir, max_new_tokens=10, lora_rank=4, lora_alpha=8),
                           patient=OfflinePatient(), judge=ParityJudge(), group_size=2, max_turns=2,
                           grpo=GRPOConfig(learning_rate=5e-3, **grpo))
    data = CaseDataModule(batch_size=2, val_size=2, val_batch_size=2, seed=7)
    recorder = CaseRecorder()
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=max_steps, logger=TensorBoardLogger(root, name="t"),
                        callbacks=[AdapterCheckpoint(every_n_train_steps=1), RewardMetrics(),
                                   TranscriptLogger(every_n_steps=1, console=False), ValidateAtEnd(), recorder],
                        val_check_interval=100, check_val_every_n_epoch=None, num_sanity_val_steps=0,
                        enable_progress_bar=False, enable_model_summary=False)
    L.seed_everything(0)
    trainer.fit(module, data, ckpt_path=ckpt_path)
    return trainer, module, recorder


def test_training_updates_lora_only_and_checkpoints_lora_only(tiny_model_dir, tmp_path):
    trainer, module, _ = _fit(tiny_model_dir, tmp_path, max_steps=1)
    model = module.policy.model
    lora = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert lora and all(p.requires_grad for p in lora.values())
    assert not any(p.requires_grad for n, p in model.named_parameters() if "lora_" not in n)
    assert any(p.abs().sum() > 0 for n, p in lora.items() if "lora_B" in n)  # B starts at zero: it moved
    ckpt = torch.load(tmp_path / "t" / "version_0" / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["state_dict"] and all("lora_" in k for k in ckpt["state_dict"])
    assert ckpt["global_step"] == 1 and ckpt["optimizer_states"]


def test_adapter_folder_loads_with_peft(tiny_model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    trainer, module, _ = _fit(tiny_model_dir, tmp_path, max_steps=1)
    adapter = tmp_path / "t" / "version_0" / "checkpoints" / "last-adapter"
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), adapter)
    trained = dict(module.policy.model.named_parameters())
    for name, param in loaded.named_parameters():
        if "lora_B" in name:
            assert torch.allclose(param, trained[name])


def test_resume_continues_the_case_stream_and_matches_an_uninterrupted_run(tiny_model_dir, tmp_path):
    straight_trainer, straight_module, straight = _fit(tiny_model_dir, tmp_path / "a", max_steps=3)
    _, _, first = _fit(tiny_model_dir, tmp_path / "b", max_steps=2)
    trainer, module, resumed = _fit(tiny_model_dir, tmp_path / "b", max_steps=3, ckpt_path="last")
    assert trainer.global_step == 3
    assert first.cases + resumed.cases == straight.cases
    assert len(resumed.cases) == 1
    # RNG, optimizer and weights restored: the resumed step samples and updates exactly the same
    assert float(trainer.callback_metrics["train/reward"]) == float(straight_trainer.callback_metrics["train/reward"])
    lora = {n: p for n, p in straight_module.policy.model.named_parameters() if "lora_" in n}
    for name, param in module.policy.model.named_parameters():
        if name in lora:
            assert torch.allclose(param, lora[name], atol=1e-6), name


def test_kl_and_multiple_iterations_run(tiny_model_dir, tmp_path):
    trainer, _, _ = _fit(tiny_model_dir, tmp_path, max_steps=2, beta=0.1, num_iterations=2)
    assert trainer.global_step == 2  # one rollout, two clipped updates
    assert "train/kl" in trainer.callback_metrics


@pytest.mark.parametrize("kwargs, field", [({"group_size": 1}, "group_size"), ({"max_turns": 0}, "max_turns")])
def test_bad_values_fail_before_loading(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        DiagnosisGRPO(**kwargs)


def test_non_finite_rewards_stop_the_step_before_any_update():
    from grpodx.cases import Case
    from grpodx.episode import Episode, Score

    module = DiagnosisGRPO(group_size=2)
    case = Case("c", "X", "A00", "infectious", 30, "female", "ill", (), (), ())
    episodes = [Episode(case, 0, score=Score(float("nan"), {})), Episode(case, 0, score=Score(0.5, {}))]
    with pytest.raises(FloatingPointError, match="non-finite"):
        module._rewards(episodes)
