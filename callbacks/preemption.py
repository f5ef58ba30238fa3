"""Preemption: on SIGTERM (or a first Ctrl-C), stop promptly, keep every completed step, exit 143 (130).

Clusters and spot machines send SIGTERM and kill the job soon after. Lightning records the signal
(`trainer.received_sigterm`) and would only stop once the step in progress ended, with no checkpoint.
Here, in a single process, the rollout in progress stops at its next token or turn and an update
before its optimizer step (grpodx.errors.RolloutInterrupted): that step is dropped whole. Then, if the
newest checkpoint is older than the last completed step, `last.ckpt` (and its adapter) is written
through the run's atomic checkpoint IO, with the case stream and the sampling RNG put back to where
the dropped step began, so `--ckpt_path last` continues exactly as an uninterrupted run would.
Under DDP every rank finishes the step in progress and stops at the same one (Lightning broadcasts
the signal), then saves the same way. `train.py` exits with 128 + the signal: 143 after SIGTERM.

A first Ctrl-C (SIGINT, single process) stops the same way and exits 130; a second one aborts at
once, as Ctrl-C always did. So an interrupted run keeps its completed steps in `last.ckpt`.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.utilities.exceptions import SIGTERMException

from grpodx.errors import RolloutInterrupted

stopped_by = {"signal": signal.SIGTERM}  # what train.py's exit code reports (128 + it)


def exit_code() -> int:
    return 128 + stopped_by["signal"]


class Preemption(L.Callback):
    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._saved_step = -1
        self._step_start: dict | None = None
        self._interrupted = False
        self._previous_sigint = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        environment = getattr(pl_module, "environment", None)
        if self.enabled and environment is not None and trainer.world_size == 1:
            environment.should_stop = lambda: trainer.received_sigterm or self._interrupted
            if stage == "fit" and threading.current_thread() is threading.main_thread():
                self._previous_sigint = signal.signal(signal.SIGINT, self._on_sigint)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    def _on_sigint(self, signum, frame) -> None:
        """First Ctrl-C: stop like SIGTERM; the next one raises KeyboardInterrupt at once."""
        self._interrupted = True
        stopped_by["signal"] = signal.SIGINT
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("\nstopping: the step in progress is dropped and the last completed one saved "
              "(Ctrl-C again to abort without saving)", file=sys.stderr, flush=True)

    def on_train_start(self, trainer, pl_module) -> None:
        self._saved_step = max(self._saved_step, trainer.global_step)  # a resumed step is saved already

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        """Where this step began: its batch in the case stream and the sampling RNG."""
        self._step_start = {"batch": getattr(batch, "index", None), "torch": torch.get_rng_state(),
                            "python": random.getstate()}
        if self._interrupted:  # Ctrl-C between steps: this step is dropped before it starts
            raise RolloutInterrupted("stopped by Ctrl-C between steps")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._step_start = None

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        self._saved_step = trainer.global_step

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if not self.enabled or not isinstance(exception, (RolloutInterrupted, SIGTERMException)):
            return
        checkpointing = trainer.checkpoint_callback
        if checkpointing is None or checkpointing.dirpath is None or trainer.global_step <= self._saved_step:
            return
        if self._step_start is not None:  # the dropped step is redone on resume, exactly
            datamodule = trainer.datamodule
            if self._step_start["batch"] is not None and hasattr(datamodule, "next_batch"):
                datamodule.next_batch = self._step_start["batch"]
            torch.set_rng_state(self._step_start["torch"])
            random.setstate(self._step_start["python"])
        path = str(Path(checkpointing.dirpath) / f"{checkpointing.CHECKPOINT_NAME_LAST}{checkpointing.FILE_EXTENSION}")
        trainer.save_checkpoint(path)
        if trainer.is_global_zero:
            print(f"{'stopped' if self._interrupted else 'preempted'}: step {trainer.global_step} saved to {path}; "
                  "resume with --ckpt_path last", file=sys.stderr, flush=True)
