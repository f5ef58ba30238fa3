"""Reading the gradient one GRPO update applies, through the module's own `_update`, outside `fit`."""

from __future__ import annotations

import lightning as L
import torch


class RecordGradients(torch.optim.Optimizer):
    """A real optimizer whose step keeps a copy of the gradients and leaves the weights alone."""

    def __init__(self, params):
        super().__init__(params, {})
        self.seen: list[torch.Tensor] = []

    def step(self, closure=None):
        if closure is not None:
            closure()
        params = [p for group in self.param_groups for p in group["params"]]
        self.seen.append(torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for p in params]))


def attach_recording_trainer(module) -> None:
    """Connect a loaded module to a single-process CPU Trainer whose optimizer records gradients."""
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.strategy.connect(module)
    module.trainer = trainer
    trainer.strategy.optimizers = [RecordGradients([p for p in module.parameters() if p.requires_grad])]


def update_gradient(module, episodes, rewards, valid) -> tuple[torch.Tensor, dict]:
    """The gradient `_update` hands the optimizer for these episodes (set max_grad_norm high to see
    it unclipped), and the update's logged totals."""
    from grpodx import grpo

    advantages = grpo.group_advantages(rewards, valid, module.grpo_config.scale_rewards)
    totals = module._update(episodes, advantages.flatten(), valid.flatten())
    return module.optimizers().optimizer.seen[-1], totals
