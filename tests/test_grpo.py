"""GRPO math against hand-computed numbers."""

import math

import pytest
import torch

from grpodx import grpo


def test_group_advantages_hand_computed():
    rewards = torch.tensor([[1.0, 0.0, 0.5, 0.5], [0.2, 0.2, 0.2, 0.2]])
    adv = grpo.group_advantages(rewards, eps=0.0 + 1e-12)
    # group 1: mean 0.5, unbiased std = sqrt((0.25+0.25+0+0)/3) = 0.408248
    std = math.sqrt(0.5 / 3)
    assert adv[0].tolist() == pytest.approx([0.5 / std, -0.5 / std, 0.0, 0.0], rel=1e-5)
    assert adv[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # equal rewards: no signal


def test_group_advantages_none_is_dr_grpo_and_batch_scaling():
    rewards = torch.tensor([[1.0, 0.0], [0.6, 0.2]])
    assert grpo.group_advantages(rewards, scale_rewards="none").flatten().tolist() == pytest.approx([0.5, -0.5, 0.2, -0.2])
    batch_std = torch.tensor([1.0, 0.0, 0.6, 0.2]).std().item()  # 0.41633
    got = grpo.group_advantages(rewards, scale_rewards="batch", eps=1e-4)
    assert got[1, 0].item() == pytest.approx(0.2 / (batch_std + 1e-4), rel=1e-5)


def test_invalid_episodes_are_excluded_and_small_groups_dropped():
    rewards = torch.tensor([[1.0, 0.0, 9.0], [0.3, 7.0, 7.0]])
    valid = torch.tensor([[True, True, False], [True, False, False]])
    adv = grpo.group_advantages(rewards, valid, scale_rewards="none")
    assert adv.flatten().tolist() == pytest.approx([0.5, -0.5, 0.0, 0.0, 0.0, 0.0])
    assert grpo.zero_std_groups(torch.tensor([[1.0, 1.0], [0.0, 1.0]])) == 1
    assert grpo.zero_std_groups(rewards, valid) == 0


def test_unknown_scale_mode_raises():
    with pytest.raises(ValueError):
        grpo.group_advantages(torch.zeros(1, 2), scale_rewards="rank")


def test_selective_log_probs_equals_full_log_softmax_in_chunks():
    torch.manual_seed(0)
    hidden, weight = torch.randn(7, 5), torch.randn(11, 5)
    targets = torch.tensor([0, 3, 10, 2, 2, 5, 7])
    full = torch.log_softmax(hidden @ weight.T, dim=-1).gather(1, targets[:, None]).squeeze(1)
    for chunk in (1, 3, 7, 100):
        assert torch.allclose(grpo.selective_log_probs(hidden, weight, targets, chunk), full, atol=1e-5)


def test_selective_log_probs_score_at_the_sampling_temperature():
    torch.manual_seed(0)
    hidden, weight, targets = torch.randn(4, 5), torch.randn(11, 5), torch.tensor([1, 0, 10, 4])
    tempered = torch.log_softmax(hidden @ weight.T / 0.7, dim=-1).gather(1, targets[:, None]).squeeze(1)
    assert torch.allclose(grpo.selective_log_probs(hidden, weight, targets, 3, temperature=0.7), tempered, atol=1e-5)
    untempered = grpo.selective_log_probs(hidden, weight, targets, 3)
    assert (untempered - tempered).abs().max() > 0.05  # what the loss scored before


def test_equal_rewards_of_five_episodes_give_exactly_zero_advantage():
    # in fp32 the mean of five 0.9525217 rewards is off by 6e-8; the group std (6e-8) blew that up to
    # a same-sign advantage of 6e-4 for every episode, so the group's rows entered the update
    rewards = torch.full((1, 5), 0.9525217413902283)
    for mode in grpo.SCALE_MODES:
        assert grpo.group_advantages(rewards, scale_rewards=mode).tolist() == [[0.0] * 5], mode
    assert grpo.zero_std_groups(rewards) == 1
    # below 1e-6 a difference is rounding, not signal
    near = torch.tensor([[0.5, 0.5 + 5e-7, 0.5]])
    assert grpo.group_advantages(near, scale_rewards="none").abs().max().item() == 0.0


def test_batch_std_can_come_from_every_rank():
    rewards = torch.tensor([[1.0, 0.0]])
    every_rank = torch.tensor([1.0, 0.0, 0.6, 0.2])  # this rank's rewards plus another rank's
    got = grpo.group_advantages(rewards, scale_rewards="batch", eps=0.0, batch_rewards=every_rank)
    std = every_rank.std().item()
    assert got[0].tolist() == pytest.approx([0.5 / std, -0.5 / std], rel=1e-5)


def test_loss_normaliser_hand_computed():
    # 3 valid episodes with 4 + 0 + 6 tokens (one has none), 4 episodes in all, 2 turns x 8 tokens each
    assert grpo.loss_normaliser("token", 10, 2, 4, 16) == 10
    assert grpo.loss_normaliser("sequence", 10, 2, 4, 16) == 2
    assert grpo.loss_normaliser("constant", 10, 2, 4, 16) == 64
    assert grpo.loss_normaliser("token", 0, 0, 4, 16) == 1  # nothing to score: no division by 0
    with pytest.raises(ValueError):
        grpo.loss_normaliser("episode", 1, 1, 1, 1)


def test_aggregation_weights_token_sequence_constant():
    episode_ids = torch.tensor([0, 0, 0, 1])
    tokens = torch.tensor([3, 1, 6])  # episode 2's rows were skipped but it still counts
    assert grpo.aggregation_weights(episode_ids, tokens, 10.0, "token").tolist() == pytest.approx([0.1] * 4)
    # sequence: each of the 3 episodes weighs 1/3, spread over its tokens
    assert grpo.aggregation_weights(episode_ids, tokens, 3.0, "sequence").tolist() == pytest.approx([1 / 9] * 3 + [1 / 3])
    assert grpo.aggregation_weights(episode_ids, tokens, 64.0, "constant").tolist() == pytest.approx([1 / 64] * 4)


def test_policy_loss_at_ratio_one_is_minus_weighted_advantage():
    logp = torch.tensor([-1.0, -2.0, -0.5], requires_grad=True)
    adv = torch.tensor([1.0, 1.0, -2.0])
    w = torch.tensor([0.25, 0.25, 0.5])
    terms = grpo.policy_loss(logp, logp.detach(), adv, w)
    assert terms.loss.item() == pytest.approx(-(0.25 + 0.25 - 1.0))
    terms.loss.backward()
    # d loss / d logp = -A * w at ratio 1
    assert logp.grad.tolist() == pytest.approx([-0.25, -0.25, 1.0])
    assert terms.ratio.tolist() == [1.0] * 3 and not terms.low_clipped.any() and not terms.high_clipped.any()


def test_policy_loss_clips_ratio_hand_computed():
    old = torch.log(torch.tensor([0.5, 0.5]))
    new = torch.log(torch.tensor([0.75, 0.25]))  # ratios 1.5 and 0.5
    adv = torch.tensor([1.0, -1.0])
    w = torch.tensor([0.5, 0.5])
    terms = grpo.policy_loss(new, old, adv, w, epsilon_low=0.2, epsilon_high=0.28)
    # token 1: min(1.5*1, 1.28*1) = 1.28 ; token 2: min(0.5*-1, 0.8*-1) = -0.8
    assert terms.loss.item() == pytest.approx(-(0.5 * 1.28 + 0.5 * -0.8))
    assert terms.high_clipped.tolist() == [True, False]  # 1.5 > 1.28 with A > 0
    assert terms.low_clipped.tolist() == [False, True]  # 0.5 < 0.8 with A < 0
    # a ratio outside the range whose advantage has the other sign keeps its gradient: not clipped
    flipped = grpo.policy_loss(new, old, -adv, w, epsilon_low=0.2, epsilon_high=0.28)
    assert not flipped.high_clipped.any() and not flipped.low_clipped.any()


def test_kl_k3_and_beta_term():
    logp, ref = torch.tensor([-1.0, -1.0]), torch.tensor([-1.0, -2.0])
    kl = grpo.kl_k3(logp, ref)
    assert kl.tolist() == pytest.approx([0.0, math.exp(-1) + 1 - 1])
    terms = grpo.policy_loss(logp, logp, torch.zeros(2), torch.tensor([0.5, 0.5]), beta=0.1, ref_log_probs=ref)
    assert terms.loss.item() == pytest.approx(0.1 * 0.5 * math.exp(-1))
    with pytest.raises(ValueError):
        grpo.policy_loss(logp, logp, torch.zeros(2), torch.ones(2), beta=0.1)
