"""Console progress within a step (rollout turns, then the update's micro-batches) and one line per step."""

from __future__ import annotations

import time

import lightning as L
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class RolloutProgress(L.Callback):
    """On a terminal, a Rich bar for the rollout (turn k of max_turns, active episodes, API calls in
    flight) and one for the update (micro-batch i of n); when the output goes to a file, a plain line
    per turn and per quarter of the update instead (a bar would print nothing there). After each step
    one line with reward, accuracy, KL and step time. Prints on rank 0 only.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.console = Console(stderr=True)
        self._progress: Progress | None = None
        self._task = None
        self._phase = ""
        self._trainer = None
        self._started = 0.0

    def setup(self, trainer, pl_module, stage: str) -> None:
        if not (self.enabled and trainer.is_global_zero):
            return
        self._trainer = trainer
        if hasattr(pl_module, "environment"):
            pl_module.environment.observers.append(self._on_turn)
            from grpodx.api import shared_ledger

            shared_ledger().watchers.append(self._on_api_calls)
        if hasattr(pl_module, "update_observers"):
            pl_module.update_observers.append(self._on_update)

    def _where(self) -> str:
        trainer = self._trainer
        if trainer is None or not trainer.training:
            return "validation"
        return f"step {trainer.global_step + 1}"

    def _show(self, phase: str, completed: int, total: int, description: str) -> None:
        if phase != self._phase:
            self._stop()
            self._phase, self._started = phase, time.perf_counter()
        if not self.console.is_terminal:
            self.console.print(f"{self._where()} {phase}: {description} ({time.perf_counter() - self._started:.0f} s)",
                               markup=False, highlight=False)
            return
        if self._progress is None:
            self._progress = Progress(TextColumn(f"[bold]{phase}[/]"), BarColumn(), TextColumn("{task.description}"),
                                      TextColumn("{task.fields[api]}"), TimeElapsedColumn(), console=self.console,
                                      transient=True)
            self._progress.start()
            self._task = self._progress.add_task("", total=total, api="")
        self._progress.update(self._task, completed=completed, total=total, description=description)

    def _on_api_calls(self, in_flight: int) -> None:
        """API patients and judges report calls in flight; shown beside the turn on a terminal."""
        if self._progress is not None and self._phase == "rollout":
            self._progress.update(self._task, api=f", {in_flight} API calls in flight" if in_flight else "")

    def _on_turn(self, turn: int, max_turns: int, active: int) -> None:
        self._show("rollout", turn, max_turns, f"turn {turn + 1}/{max_turns}, {active} active")

    def _on_update(self, done: int, total: int) -> None:
        if self.console.is_terminal or done == total or done % max(1, total // 4) == 0:
            self._show("update", done, total, f"micro-batch {done}/{total}")

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self._phase = ""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._stop()
        if not (self.enabled and trainer.is_global_zero):
            return
        m = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith(("train/", "time/"))}
        self.console.print(step_line(trainer.global_step, m), soft_wrap=True)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._stop()

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._stop()


def step_line(step: int, m: dict[str, float]) -> str:
    """The one console line of a step: rollout figures for GRPO, the loss for a step without a
    rollout (the warm start), so no line shows a reward that was never measured."""
    if "train/reward" not in m:
        return (f"[bold]step {step}[/]  loss {m.get('train/loss', float('nan')):.4f}  "
                f"doctor tokens {m.get('train/doctor_tokens', 0):.0f}  step {m.get('time/step_s', 0):.1f}s")
    return (f"[bold]step {step}[/]  reward {m['train/reward']:.3f}  "
            f"acc {m.get('train/accuracy', float('nan')):.2f}  kl {m.get('train/kl', 0.0):.4f}  "
            f"zero-std groups {m.get('train/zero_std_groups', 0):.0f}  step {m.get('time/step_s', 0):.1f}s "
            f"(doctor {m.get('time/doctor_s', 0):.1f}s, update {m.get('time/update_s', 0):.1f}s)")
