"""Checkpoints every `every_n_train_steps` plus `last`, written atomically, each with a PEFT adapter
folder beside it that `PeftModel.from_pretrained` loads."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lightning.pytorch.callbacks import ModelCheckpoint


class AdapterCheckpoint(ModelCheckpoint):
    """ModelCheckpoint that (1) writes to a temporary file and renames it, so a kill during a save
    never leaves a broken `last.ckpt`; (2) exports `<checkpoint>-adapter/` (adapter_config.json +
    adapter_model.safetensors); (3) finds `last` in any earlier version folder of the same run name,
    so `--ckpt_path last` resumes across restarts.
    """

    def __init__(self, every_n_train_steps: int = 10, save_last: bool = True, save_top_k: int = -1,
                 dirpath: str | None = None, filename: str = "step-{step:06d}", **kwargs):
        super().__init__(dirpath=dirpath, filename=filename, every_n_train_steps=every_n_train_steps,
                         save_last=save_last, save_top_k=save_top_k, auto_insert_metric_name=False, **kwargs)

    def _save_checkpoint(self, trainer, filepath: str) -> None:
        partial = f"{filepath}.partial"
        trainer.save_checkpoint(partial, self.save_weights_only)
        if trainer.is_global_zero:
            os.replace(partial, filepath)
            self._export_adapter(trainer, filepath)
        trainer.strategy.barrier()
        self._last_global_step_saved = trainer.global_step
        self._last_checkpoint_saved = filepath
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                logger.after_save_checkpoint(self)

    @staticmethod
    def _export_adapter(trainer, filepath: str) -> None:
        policy = getattr(trainer.lightning_module, "policy", None)
        if policy is None:
            return
        folder = Path(filepath).with_suffix("")
        target = folder.parent / f"{folder.name}-adapter"
        staging = folder.parent / f".{folder.name}-adapter.partial"
        policy.model.save_pretrained(staging)
        policy.tokenizer.save_pretrained(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)

    def _find_last_checkpoints(self, trainer) -> set[str]:
        found = set(super()._find_last_checkpoints(trainer))
        logger = trainer.logger
        if logger is not None and getattr(logger, "save_dir", None) and self.dirpath is None:
            run_root = Path(logger.save_dir) / (logger.name or "")
            found |= {str(p) for p in run_root.glob("*/checkpoints/last*.ckpt")}
        return found
