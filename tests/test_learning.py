"""GRPO learns: on a task with a known answer, the rewarded behaviour becomes more likely.

The reward is 1 when the doctor's first sampled token lies in a fixed half of the vocabulary: the
tokens whose output embedding points along a fixed random direction (so the half is learnable by
moving the last hidden state, unlike an arbitrary half such as even ids). On a random tiny model that
is a coin flip per episode, so every group carries signal, and the policy's exact probability of a
rewarded first token (read from its logits, no sampling noise) must rise over a few GRPO steps. The same run with the advantage's sign flipped must make it fall: a test that a sign
error in the loss or the advantages would fail.
"""

import lightning as L
import pytest
import torch

from grpodx import grpo
from grpodx.cases.sources import case_source
from grpodx.data import CaseDataModule
from grpodx.doctor import DoctorConfig
from grpodx.doctor.prompting import conversation_messages
from grpodx.episode import Score
from grpodx.grpo_config import GRPOConfig
from grpodx.judges import Judge
from grpodx.module import DiagnosisGRPO
from grpodx.patients import OfflinePatient
from tests.conftest import scaled_head_copy


def rewarded_tokens(module: DiagnosisGRPO) -> torch.Tensor:
    """Token ids whose output embedding has a positive projection on a fixed random direction."""
    head = module.policy.lm_head_weight.detach().float()
    direction = torch.randn(head.shape[1], generator=torch.Generator().manual_seed(0))
    return (head @ direction > 0).nonzero().squeeze(1)


class FirstTokenJudge(Judge):
    """Reward 1 when the first sampled token of the episode is one of `rewarded` ids."""

    def __init__(self):
        self.rewarded: set[int] = set()

    def score(self, episode):
        value = float(episode.doctor_turns[0].completion_ids[0] in self.rewarded)
        return Score(value, {"rewarded_first_token": value})


def rewarded_first_token_probability(module: DiagnosisGRPO, cases, rewarded: torch.Tensor) -> float:
    """Mean over `cases` of P(first doctor token is rewarded), exactly, from the policy's logits."""
    policy = module.policy
    policy_model = policy.model
    was_training = policy_model.training
    policy_model.eval()
    total = 0.0
    with torch.no_grad():
        for case in cases:
            ids = torch.tensor([policy.prompt_ids(conversation_messages(case.opening_statement, [], last_turn=True))])
            probs = torch.softmax(policy_model(input_ids=ids).logits[0, -1].float(), dim=-1)
            total += float(probs[rewarded].sum())
    policy_model.train(was_training)
    return total / len(cases)


@pytest.fixture(scope="module")
def sharp_model_dir(tiny_model_dir, tmp_path_factory) -> str:
    """The tiny random model with output embeddings 5x larger: at the default 0.02 init its logits
    are so flat that no hidden state can move P(rewarded half) past ~0.52, whatever the loss does."""
    return scaled_head_copy(tiny_model_dir, 5.0, tmp_path_factory.mktemp("sharp-doctor"))


def _train(tiny_model_dir, steps: int) -> tuple[float, float]:
    judge = FirstTokenJudge()
    module = DiagnosisGRPO(doctor=DoctorConfig(model=tiny_model_dir, max_new_tokens=1, lora_rank=4, lora_alpha=8),
                           patient=OfflinePatient(use_embeddings=False), judge=judge,
                           group_size=8, max_turns=1, grpo=GRPOConfig(learning_rate=1e-2))
    module.configure_model()
    rewarded = rewarded_tokens(module)
    judge.rewarded = set(rewarded.tolist())
    cases = [case_source("kb").train_case(i, 7) for i in range(4)]
    before = rewarded_first_token_probability(module, cases, rewarded)
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=steps, logger=False, enable_checkpointing=False,
                        limit_val_batches=0, num_sanity_val_steps=0, enable_progress_bar=False,
                        enable_model_summary=False)
    L.seed_everything(0)
    trainer.fit(module, CaseDataModule(batch_size=2, val_size=1, val_batch_size=1, seed=7))
    return before, rewarded_first_token_probability(module, cases, rewarded)


def test_grpo_raises_the_probability_of_the_rewarded_first_token(sharp_model_dir):
    before, after = _train(sharp_model_dir, steps=8)
    assert after > before + 0.05  # measured: 0.58 -> 0.68 in 8 steps (flipped: 0.34), (before, after)


def test_a_flipped_advantage_sign_lowers_it(sharp_model_dir, monkeypatch):
    """The guard above can fail: with the advantage negated the rewarded behaviour becomes rarer."""
    unflipped = grpo.group_advantages
    monkeypatch.setattr(grpo, "group_advantages", lambda *args, **kwargs: -unflipped(*args, **kwargs))
    before, after = _train(sharp_model_dir, steps=8)
    assert after < before - 0.05, (before, after)
