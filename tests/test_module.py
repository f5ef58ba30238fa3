"""The LightningModule on a tiny random model: updates LoRA only, checkpoints LoRA only, resumes
on the exact case stream position, exports a PEFT adapter."""

import lightning as L
import pytest
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from callbacks import AdapterCheckpoint, RewardMetrics, TranscriptLogger, ValidateAtEnd
from callbacks.adapter_checkpoint import last_checkpoint
from grpodx.data import CaseDataModule
from grpodx.doctor import DoctorConfig
from grpodx.errors import ConfigError
from grpodx.grpo_config import GRPOConfig
from grpodx.module import DiagnosisGRPO
from grpodx.patients import OfflinePatient
from tests.conftest import ParityJudge
from tests.gradients import attach_recording_trainer, update_gradient


class CaseRecorder(L.Callback):
    def __init__(self):
        self.cases = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.cases.append([c.case_id for c in batch.cases])


def _fit(tiny_model_dir, root, max_steps, ckpt_path=None, doctor=None, **grpo):
    doctor = {"lora_rank": 4, "lora_alpha": 8, **(doctor or {})}
    module = DiagnosisGRPO(doctor=DoctorConfig(model=tiny_model_dir, max_new_tokens=10, **doctor),
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
    if ckpt_path == "last":  # what train.py does for --ckpt_path last: any version folder of the run name
        ckpt_path = last_checkpoint(trainer)
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


@pytest.mark.slow  # three fits (straight, first part, resumed)
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
    # train/kl is logged at beta 0 too; here the second update scores a policy that moved away from
    # the reference (the adapter off), so the k3 estimate is positive
    assert float(trainer.callback_metrics["train/kl"]) > 0


@pytest.mark.parametrize("doctor, message", [
    ({"lora_rank": 8, "lora_alpha": 16}, "model.init_args.doctor.lora_rank: checkpoint LoRA rank 4 vs model rank 8"),
    ({"target_modules": ["q_proj", "v_proj"]}, "model.init_args.doctor.target_modules: checkpoint LoRA adapts "
                                               "['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', "
                                               "'v_proj'] vs model ['q_proj', 'v_proj']"),
])
def test_resuming_a_checkpoint_whose_lora_does_not_fit_stops_with_one_line(tiny_model_dir, tmp_path, doctor, message):
    """strict_loading is off (checkpoints hold LoRA only): a changed rank or target_modules would
    otherwise fail deep in torch (rank) or load nothing at all, silently (target modules)."""
    _fit(tiny_model_dir, tmp_path, max_steps=1)
    saved = tmp_path / "t" / "version_0" / "checkpoints" / "last.ckpt"
    with pytest.raises(ConfigError) as error:
        _fit(tiny_model_dir, tmp_path, max_steps=2, ckpt_path=str(saved), doctor=doctor)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_lora_check_names_missing_and_unexpected_weights():
    from grpodx.lora_keys import check_lora_state

    shape = torch.Size([4, 32])
    expected = {"policy.a.q_proj.lora_A.default.weight": shape, "policy.b.q_proj.lora_A.default.weight": shape}
    saved = {"policy.a.q_proj.lora_A.default.weight": torch.zeros(shape),
             "policy.c.q_proj.lora_A.default.weight": torch.zeros(shape)}
    with pytest.raises(ConfigError, match=r"1 missing \(e.g. policy.b.*1 unexpected \(e.g. policy.c"):
        check_lora_state(saved, expected)
    check_lora_state({k: torch.zeros(v) for k, v in expected.items()}, expected)  # a fit passes


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


@pytest.fixture(scope="module")
def rollout(tiny_model_dir):
    """A module attached to a Trainer whose optimizer records gradients, and one real rollout of two
    cases x G = 5 (two turns) to update on."""
    from grpodx.cases.sources import case_source

    module = DiagnosisGRPO(doctor=DoctorConfig(model=tiny_model_dir, max_new_tokens=8, lora_rank=4, lora_alpha=8,
                                               temperature=0.7),
                           patient=OfflinePatient(use_embeddings=False), judge=ParityJudge(), group_size=5, max_turns=2)
    module.configure_model()
    torch.manual_seed(0)
    with torch.no_grad():  # a trained adapter: the policy differs from the reference, A gets gradients
        for name, param in module.policy.model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.05)
    attach_recording_trainer(module)
    cases = [case_source("kb").train_case(i, 7) for i in range(2)]
    episodes, _ = module.environment.run(module.policy, cases, module.group_size, greedy=False)
    return module, episodes


def _gradient(module, episodes, rewards, **grpo_config) -> tuple[torch.Tensor, dict]:
    """The gradient one update applies (no clipping), through the module's own `_update`."""
    module.grpo_config = GRPOConfig(max_grad_norm=1e9, **grpo_config)
    return update_gradient(module, episodes, rewards, torch.ones_like(rewards, dtype=torch.bool))


EQUAL_GROUP = [0.9525217413902283] * 5  # equal rewards whose fp32 mean is off by 6e-8
VARIED = [[0.2, 0.8, 0.5, 0.1, 0.7], [0.1, 0.9, 0.4, 0.6, 0.3]]


@pytest.mark.parametrize("aggregation", ["token", "sequence", "constant"])
@pytest.mark.parametrize("rewards", [[[0.5] * 5, VARIED[1]], [EQUAL_GROUP, VARIED[1]], VARIED],
                         ids=["zero-advantage rows", "rounded zero-advantage rows", "all rows"])
def test_gradient_is_the_same_for_beta_zero_and_tiny(rollout, aggregation, rewards):
    """beta = 0 skips zero-advantage rows, beta = 1e-12 runs them for a KL term of ~1e-12: the
    gradient must not notice (the normaliser counts every valid episode either way)."""
    module, episodes = rollout
    rewards = torch.tensor(rewards)
    skipped, _ = _gradient(module, episodes, rewards, beta=0.0, aggregation=aggregation)
    kept, _ = _gradient(module, episodes, rewards, beta=1e-12, aggregation=aggregation)
    assert skipped.abs().max() > 1e-6
    torch.testing.assert_close(skipped, kept, rtol=1e-4, atol=1e-9)


def test_an_equal_reward_group_of_five_is_skipped(rollout):
    module, episodes = rollout
    _, both = _gradient(module, episodes, torch.tensor(VARIED), beta=0.0, share_prefixes=False)
    _, one = _gradient(module, episodes, torch.tensor([EQUAL_GROUP, VARIED[1]]), beta=0.0, share_prefixes=False)
    second_group = sum(len(t.prompt_ids) + len(t.completion_ids) for e in episodes[5:] for t in e.doctor_turns)
    assert one["update_tokens"] == second_group < both["update_tokens"]


@pytest.mark.parametrize("grpo_config", [{"aggregation": "token"}, {"aggregation": "sequence", "beta": 0.04}],
                         ids=["token", "sequence+kl"])
def test_shared_prefixes_give_the_per_row_gradient_on_fewer_tokens(rollout, grpo_config):
    """One packed sequence per episode scores every doctor token in exactly its row's context: the
    update's gradient (and KL) equal the one-row-per-turn update's, on fewer tokens."""
    module, episodes = rollout
    rewards = torch.tensor(VARIED)
    rows, per_row = _gradient(module, episodes, rewards, share_prefixes=False, **grpo_config)
    shared, packed = _gradient(module, episodes, rewards, share_prefixes=True, **grpo_config)
    assert rows.abs().max() > 1e-6
    torch.testing.assert_close(shared, rows, rtol=1e-4, atol=1e-8)
    assert packed["kl"] == pytest.approx(per_row["kl"], rel=1e-4, abs=1e-9)
    assert packed["update_tokens"] < per_row["update_tokens"]


def test_constant_aggregation_divides_by_episodes_turns_and_max_new_tokens(rollout):
    """Dr. GRPO: the token-aggregated gradient x doctor tokens / (10 episodes x 2 turns x 8 new tokens)."""
    module, episodes = rollout
    rewards = torch.tensor(VARIED)
    token, _ = _gradient(module, episodes, rewards, aggregation="token")
    constant, _ = _gradient(module, episodes, rewards, aggregation="constant")
    tokens = sum(len(t.completion_ids) for e in episodes for t in e.doctor_turns)
    torch.testing.assert_close(constant, token * tokens / (10 * 2 * 8), rtol=1e-4, atol=1e-10)
