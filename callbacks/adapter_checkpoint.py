"""Checkpoints every `every_n_train_steps` plus `last`, written atomically, each with a PEFT adapter
folder beside it that `PeftModel.from_pretrained` loads."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

log = logging.getLogger(__name__)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes `<path>.partial`, then renames it over `<path>`: a kill during a save never leaves a
    broken checkpoint (Lightning's own write goes straight to the file). Then `after_save(path)`."""

    def __init__(self, after_save: Callable[[str], None] | None = None):
        super().__init__()
        self.after_save = after_save

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        partial = f"{path}.partial"
        super().save_checkpoint(checkpoint, partial, storage_options)
        os.replace(partial, path)
        if self.after_save is not None:
            self.after_save(str(path))


class AdapterCheckpoint(ModelCheckpoint):
    """ModelCheckpoint whose saves (1) go through AtomicCheckpointIO, so a kill during a save never
    leaves a broken `last.ckpt`; (2) export `<checkpoint>-adapter/` (adapter_config.json +
    adapter_model.safetensors) beside every checkpoint the run writes. `--ckpt_path last` is found
    across the run's version folders by `last_checkpoint` (the CLI resolves it before fit).
    """

    def __init__(self, every_n_train_steps: int = 10, save_last: bool = True, save_top_k: int = -1,
                 dirpath: str | None = None, filename: str = "step-{step:06d}", **kwargs):
        super().__init__(dirpath=dirpath, filename=filename, every_n_train_steps=every_n_train_steps,
                         save_last=save_last, save_top_k=save_top_k, auto_insert_metric_name=False, **kwargs)

    def setup(self, trainer, pl_module, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        io = trainer.strategy.checkpoint_io
        if isinstance(io, AtomicCheckpointIO):
            return
        if type(io) is TorchCheckpointIO:
            trainer.strategy.checkpoint_io = AtomicCheckpointIO(lambda path: self._export_adapter(trainer, path))
        else:
            log.warning("checkpoint: the trainer's %s is kept, so checkpoints are written as it writes them "
                        "and no adapter folder is exported beside them", type(io).__name__)

    @staticmethod
    def _export_adapter(trainer, filepath: str) -> None:
        policy = getattr(trainer.lightning_module, "policy", None)
        if policy is None:
            return
        target = adapter_folder(filepath)
        staging = target.parent / f".{target.name}.partial"
        policy.model.save_pretrained(staging)
        policy.tokenizer.save_pretrained(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)


def adapter_folder(checkpoint: str | Path) -> Path:
    """The PEFT adapter folder exported beside a checkpoint: `last.ckpt` -> `last-adapter/`."""
    path = Path(checkpoint).with_suffix("")
    return path.parent / f"{path.name}-adapter"


def last_checkpoint(trainer) -> str | None:
    """The newest `last*.ckpt` of this run: in the checkpoint callback's own `dirpath` when one is
    set, else in every version folder of the logger's run name (a restart writes a new version_N,
    so Lightning's own search, which looks only in the new folder, would find nothing)."""
    callback = trainer.checkpoint_callback
    if callback is not None and callback.dirpath is not None:
        found = list(Path(callback.dirpath).glob("last*.ckpt"))
    else:
        logger = trainer.logger
        save_dir = getattr(logger, "save_dir", None) if logger is not None else None
        root = Path(save_dir) / (logger.name or "") if save_dir else Path(trainer.default_root_dir)
        found = list(root.glob("*/checkpoints/last*.ckpt")) + list(root.glob("checkpoints/last*.ckpt"))
    return str(max(found, key=lambda p: p.stat().st_mtime)) if found else None
