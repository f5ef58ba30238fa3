"""The console's one line per step says what the step measured."""

from callbacks.rollout_progress import step_line


def test_a_step_without_a_rollout_shows_its_loss_not_a_reward():
    line = step_line(3, {"train/loss": 0.51234, "train/doctor_tokens": 1100.0, "time/step_s": 15.2})
    assert "loss 0.5123" in line and "doctor tokens 1100" in line and "15.2s" in line
    assert "reward" not in line and "nan" not in line


def test_a_grpo_step_shows_reward_accuracy_and_times():
    line = step_line(2, {"train/reward": 0.3, "train/accuracy": 0.25, "train/kl": 0.001,
                         "train/zero_std_groups": 1.0, "time/step_s": 90.0, "time/doctor_s": 55.0,
                         "time/update_s": 30.0})
    assert "reward 0.300" in line and "acc 0.25" in line and "doctor 55.0s" in line and "loss" not in line
