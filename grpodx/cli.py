"""The LightningCLI for GRPODx, the seed's flag aliases, and one-line errors for bad input."""

from __future__ import annotations

import os
import sys

import lightning as L
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from callbacks import (AdapterCheckpoint, ApiUsage, Preemption, RewardMetrics, RolloutProgress, RunSummary,
                       TranscriptLogger, ValidateAtEnd)
from callbacks.adapter_checkpoint import last_checkpoint
from callbacks.preemption import exit_code
from grpodx.chatter import quiet_libraries
from grpodx.cli_help import FULL_HELP_FLAG, compact_help
from grpodx.data import CaseDataModule
from grpodx.errors import ConfigError, RolloutInterrupted, one_line_errors
from grpodx.module import DiagnosisGRPO
from grpodx.threads import configure_threads

# seed flag -> LightningCLI flag (values follow as the next argument or after '=')
ALIASES = {
    "--max-steps": "--trainer.max_steps",
    "--save-steps": "--checkpoint.every_n_train_steps",
    "--batch-size": "--data.batch_size",
    "--lora-rank": "--model.doctor.lora_rank",
    "--load-checkpoint": "--ckpt_path",
}
API_KEY_FLAG = "--openai-api-key"


def asks_for_help(argv: list[str]) -> bool:
    return any(a in ("-h", "--help", FULL_HELP_FLAG, "--print_config") or a.endswith(".help") or
               a.startswith("--print_config=") for a in argv)


def check_command(argv: list[str]) -> None:
    """`fit` needs a config: without one it would train on the code's defaults into ./lightning_logs."""
    if argv[:1] == ["fit"] and not asks_for_help(argv) and \
            not any(a in ("-c", "--config") or a.startswith("--config=") for a in argv):
        raise ConfigError("--config", "fit needs a config file", "add --config configs/default.yaml "
                          "(or configs/warmstart.yaml, configs/local-server.yaml, configs/phi4-openai.yaml)")


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

    def parse_arguments(self, parser, args) -> None:
        self.given = list(sys.argv[1:] if args is None else args.split() if isinstance(args, str) else
                          args if isinstance(args, list) else [])
        super().parse_arguments(parser, args)

    def before_instantiate_classes(self) -> None:
        """Mistakes that would otherwise run: an abbreviated option taken for another, a step count
        that never ends training."""
        parser = self._subcommand_parsers.get(self.subcommand) if self.subcommand else self.parser
        options = set(parser._option_string_actions)
        for arg in getattr(self, "given", []):
            name = arg.split("=", 1)[0]
            if name.startswith("--") and name not in options and not name.startswith(("--model.", "--data.")):
                meant = [o for o in options if o.startswith(name)]
                if meant:
                    raise ConfigError(name, f"is not an option (abbreviations are not expanded; did you mean "
                                      f"{sorted(meant)[0]}?)", "write the option in full")
        config = self.config.get(self.subcommand) if self.subcommand else self.config
        if self.subcommand == "fit":
            max_steps = config["trainer"]["max_steps"]
            if max_steps is None or max_steps < 1:
                raise ConfigError("trainer.max_steps", f"must be a number of steps >= 1, got {max_steps}",
                                  "set e.g. --trainer.max_steps 20 (training never ends otherwise)")

    def before_fit(self) -> None:
        self._resolve_last()

    def before_validate(self) -> None:
        self._resolve_last()

    def before_test(self) -> None:
        self._resolve_last()

    def _resolve_last(self) -> None:
        """`--ckpt_path last` finds the newest last.ckpt in any version folder of this run name
        (a restart writes a new version_N), and says what it loads; with none, fit starts a new
        run (and says so), validate and test stop with one line."""
        config = self.config_init[self.subcommand]
        if config.get("ckpt_path") == "last":
            config["ckpt_path"] = last_checkpoint(self.trainer)
            if config["ckpt_path"] is None and self.subcommand != "fit":
                raise ConfigError("--ckpt_path", f"`last`: no checkpoint of this run name to {self.subcommand}",
                                  "train first, or give the path of a .ckpt file")
            if config["ckpt_path"] is None and self.trainer.is_global_zero:
                print("--ckpt_path last: no checkpoint of this run name yet, so a new run starts at step 0",
                      file=sys.stderr, flush=True)
        if config.get("ckpt_path") and self.trainer.is_global_zero:
            print(f"{'resuming from' if self.subcommand == 'fit' else 'loading'} {config['ckpt_path']}",
                  file=sys.stderr, flush=True)

    def add_arguments_to_parser(self, parser) -> None:
        parser.set_defaults({"trainer.enable_progress_bar": False})  # callbacks.RolloutProgress shows the step
        parser.add_lightning_class_args(RunSummary, "summary")
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
    if argv[:1] == ["fit"] and {"-h", "--help"} & set(argv):
        print(compact_help(ALIASES, API_KEY_FLAG))
        return
    argv = [("--help" if a == FULL_HELP_FLAG else a) for a in argv]
    try:
        with one_line_errors("python train.py fit --help"):
            sys.argv = sys.argv[:1] + translate_aliases(argv, os.environ)
            check_command(sys.argv[1:])
            if not asks_for_help(sys.argv[1:]):
                configure_threads()
            quiet_libraries()
            GRPODxCLI(DiagnosisGRPO, CaseDataModule, save_config_kwargs={"overwrite": True},
                      parser_kwargs={"exit_on_error": False})
    except (RolloutInterrupted, SIGTERMException):  # callbacks.Preemption saved the last completed step
        raise SystemExit(exit_code())
