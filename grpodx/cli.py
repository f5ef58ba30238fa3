"""The LightningCLI for GRPODx, the seed's flag aliases, and one-line errors for bad input."""

from __future__ import annotations

import os
import sys

import lightning as L
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from callbacks import (AdapterCheckpoint, ApiUsage, Preemption, RewardMetrics, RolloutProgress, TranscriptLogger,
                       ValidateAtEnd)
from callbacks.preemption import PREEMPTED_EXIT_CODE
from grpodx.data import CaseDataModule
from grpodx.errors import ConfigError, RolloutInterrupted, one_line_errors
from grpodx.module import DiagnosisGRPO

# seed flag -> LightningCLI flag (values follow as the next argument or after '=')
ALIASES = {
    "--max-steps": "--trainer.max_steps",
    "--save-steps": "--checkpoint.every_n_train_steps",
    "--batch-size": "--data.batch_size",
    "--lora-rank": "--model.doctor.lora_rank",
    "--load-checkpoint": "--ckpt_path",
}
API_KEY_FLAG = "--openai-api-key"


def translate_aliases(argv: list[str], environ: dict) -> list[str]:
    """Rewrite the seed's flags; move an API key from the command line into the environment only,
    so it is never written to config.yaml, hparams or checkpoints."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name == API_KEY_FLAG:
            if not eq:
                if i + 1 >= len(argv):
                    raise ConfigError(API_KEY_FLAG, "needs a value", "pass --openai-api-key KEY or set OPENAI_API_KEY")
                value, i = argv[i + 1], i + 1
            environ["OPENAI_API_KEY"] = value
        elif name in ALIASES:
            out.append(ALIASES[name] + (f"={value}" if eq else ""))
        else:
            out.append(arg)
        i += 1
    return out


class GRPODxCLI(LightningCLI):
    """Adds the always-on callbacks as config groups (`checkpoint`, `transcripts`).

    `model:` and `data:` take any LightningModule / DataModule by `class_path` (e.g.
    grpodx.warm_start.WarmStart with grpodx.demonstration_data.DemonstrationDataModule in
    configs/warmstart.yaml); a config without one gets `model_class` and `datamodule_class`
    (GRPO: DiagnosisGRPO and CaseDataModule), so its keys sit directly under `model:` and `data:`.
    """

    def __init__(self, model_class: type = DiagnosisGRPO, datamodule_class: type = CaseDataModule, **kwargs):
        self.default_classes = {"model": model_class, "data": datamodule_class}
        super().__init__(L.LightningModule, L.LightningDataModule, subclass_mode_model=True,
                         subclass_mode_data=True, **kwargs)

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_lightning_class_args(AdapterCheckpoint, "checkpoint")
        parser.add_lightning_class_args(TranscriptLogger, "transcripts")
        parser.add_lightning_class_args(RewardMetrics, "reward_metrics")
        parser.add_lightning_class_args(ValidateAtEnd, "validate_at_end")
        parser.add_lightning_class_args(RolloutProgress, "progress")
        parser.add_lightning_class_args(ApiUsage, "api_usage")
        parser.add_lightning_class_args(Preemption, "preemption")
        parser.set_defaults({key: {"class_path": f"{cls.__module__}.{cls.__qualname__}"}
                             for key, cls in self.default_classes.items()})


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        with one_line_errors("python train.py fit --help"):
            sys.argv = sys.argv[:1] + translate_aliases(argv, os.environ)
            GRPODxCLI(DiagnosisGRPO, CaseDataModule, save_config_kwargs={"overwrite": True},
                      parser_kwargs={"exit_on_error": False})
    except (RolloutInterrupted, SIGTERMException):  # callbacks.Preemption saved the last completed step
        raise SystemExit(PREEMPTED_EXIT_CODE)
