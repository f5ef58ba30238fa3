"""Where a run goes and what it produced, said once at the start and once at the end."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import lightning as L
from rich.console import Console

from callbacks.adapter_checkpoint import adapter_folder

SHOWN = (("reward", "reward {:.3f}"), ("accuracy", "top-1 {:.2f}"), ("top3", "top-3 {:.2f}"),
         ("format", "well-formed {:.2f}"), ("no_final", "no final diagnosis {:.2f}"), ("turns", "turns {:.1f}"))


class RunSummary(L.Callback):
    """At the start: the run folder and how to watch it. At the end: the held-out figures of the
    final validation, the checkpoint and adapter paths, and the command that evaluates them. A run
    stopped before it completed a step and saved nothing leaves no empty `version_N` folder behind.
    Prints on rank 0 only.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.console = Console(stderr=True)
        self._born = time.time()
        self._start_step: int | None = None

    def _say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def on_fit_start(self, trainer, pl_module) -> None:
        self._start_step = trainer.global_step
        folder = trainer.log_dir  # a collective under DDP: every rank must ask, or rank 0 waits forever
        if not (self.enabled and trainer.is_global_zero) or trainer.logger is None:
            return
        self._say(f"run folder: {folder}")
        save_dir = getattr(trainer.logger, "save_dir", None)
        if save_dir:
            self._say(f"watch it: tensorboard --logdir {save_dir}")

    def on_fit_end(self, trainer, pl_module) -> None:
        if not (self.enabled and trainer.is_global_zero):
            return
        values = {k[4:]: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        if values:
            cases = getattr(trainer.datamodule, "val_size", None)
            shown = "  ".join(form.format(values[key]) for key, form in SHOWN if key in values)
            self._say(f"held-out{f' ({cases} cases)' if cases else ''} after step {trainer.global_step}: {shown}")
        checkpoint = trainer.checkpoint_callback
        last = getattr(checkpoint, "last_model_path", "") or getattr(checkpoint, "best_model_path", "")
        if last:
            self._say(f"checkpoint: {last}")
            if adapter_folder(last).is_dir():
                self._say(f"adapter: {adapter_folder(last)} (PeftModel.from_pretrained loads it)")
            self._say(f"evaluate it: python -m grpodx.evaluate --ckpt_path {last}")

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        """Remove the run folder if this run completed no step and wrote nothing older than itself."""
        if not trainer.is_global_zero or trainer.logger is None:
            return
        if self._start_step is not None and trainer.global_step > self._start_step:
            return
        folder = Path(getattr(trainer.logger, "log_dir", None) or "")
        if not folder.name or not folder.is_dir() or folder == Path(trainer.default_root_dir):
            return
        files = [p for p in folder.rglob("*") if p.is_file()]
        if any(p.suffix == ".ckpt" for p in files) or any(p.stat().st_mtime < self._born for p in files):
            return
        shutil.rmtree(folder, ignore_errors=True)
        if self.enabled:
            self._say(f"no step completed: removed the run folder {folder}")
