"""Console progress: the rollout's turn and active episodes within a step, and one line per step."""

from __future__ import annotations

import lightning as L
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class RolloutProgress(L.Callback):
    """A Rich bar for the rollout (turn k of max_turns, active episodes, API calls in flight) and, after each step, one
    Rich line with reward, accuracy, KL and step time. Prints on rank 0 only.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.console = Console(stderr=True)
        self._progress: Progress | None = None
        self._task = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.enabled and trainer.is_global_zero and hasattr(pl_module, "environment"):
            pl_module.environment.observers.append(self._on_turn)
            from grpodx.api import shared_ledger

            shared_ledger().watchers.append(self._on_api_calls)

    def _on_api_calls(self, in_flight: int) -> None:
        """API patients and judges report calls in flight; shown beside the turn."""
        if self._progress is not None:
            self._progress.update(self._task, api=f", {in_flight} API calls in flight" if in_flight else "")

    def _on_turn(self, turn: int, max_turns: int, active: int) -> None:
        if self._progress is None:
            self._progress = Progress(TextColumn("[bold]rollout[/]"), BarColumn(), TextColumn("{task.description}"),
                                      TextColumn("{task.fields[api]}"), TimeElapsedColumn(), console=self.console,
                                      transient=True)
            self._progress.start()
            self._task = self._progress.add_task("", total=max_turns, api="")
        self._progress.update(self._task, completed=turn, description=f"turn {turn + 1}/{max_turns}, {active} active")

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._stop()
        if not (self.enabled and trainer.is_global_zero):
            return
        m = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith(("train/", "time/"))}
        self.console.print(
            f"[bold]step {trainer.global_step}[/]  reward {m.get('train/reward', float('nan')):.3f}  "
            f"acc {m.get('train/accuracy', float('nan')):.2f}  kl {m.get('train/kl', 0.0):.4f}  "
            f"zero-std groups {m.get('train/zero_std_groups', 0):.0f}  step {m.get('time/step_s', 0):.1f}s "
            f"(doctor {m.get('time/doctor_s', 0):.1f}s, update {m.get('time/update_s', 0):.1f}s)")

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._stop()

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self._stop()
