"""`python train.py fit --help`: GRPODx's own options in one screenful-per-section, not Lightning's 700 lines.

The options come from the classes themselves (their signatures and docstrings), so the help cannot
drift from the code; the code defaults are configs/default.yaml's. Lightning's own options stay one
flag away (`--help-all`), and the seed's short flags are listed (cli.ALIASES, translated before parsing).
"""

from __future__ import annotations

import inspect

FULL_HELP_FLAG = "--help-all"

HEADER = """\
usage: python train.py fit --config CONFIG [options]

Train the doctor with GRPO (or warm-start it: --config configs/warmstart.yaml).

essentials:
  -c, --config CONFIG        required: configs/default.yaml (embedded, CPU), configs/warmstart.yaml,
                             configs/local-server.yaml, configs/phi4-openai.yaml
  --trainer.max_steps N      training steps (default.yaml: 20)
  --trainer.val_check_interval N
                             validate on the held-out cases every N steps (and always at the end)
  --ckpt_path last|PATH      resume: `last` = the newest last.ckpt of this run name (none: a new run starts)
  --seed_everything N        seed of sampling and weights (default.yaml: 1234)
  --trainer.logger.init_args.save_dir DIR, --trainer.logger.init_args.name NAME
                             where runs go: DIR/NAME/version_N (default.yaml: runs/default)

short flags (the original seed's):
{aliases}
"""

FOOTER = """\
more:
  python train.py fit --help-all              every option, Lightning's Trainer, optimizer and callbacks too
  python train.py fit --config C --print_config   the full resolved configuration
  python train.py fit --config C --model.patient.help OpenAIPatient   one class's options (also Judge)
"""


def _without(cls, keep: set[str]) -> set[str]:
    return {n for n in inspect.signature(cls.__init__).parameters if n not in keep | {"self"}}


def compact_help(aliases: dict[str, str], api_key_flag: str) -> str:
    from jsonargparse import ArgumentParser
    from lightning.pytorch.callbacks import ModelCheckpoint

    from callbacks import AdapterCheckpoint, TranscriptLogger
    from grpodx.data import CaseDataModule
    from grpodx.doctor import DoctorConfig
    from grpodx.grpo_config import GRPOConfig
    from grpodx.module import DiagnosisGRPO

    parser = ArgumentParser(prog="python train.py fit", usage="", add_help=False)
    parser.add_class_arguments(DiagnosisGRPO, "model", skip={"doctor", "grpo"}, fail_untyped=False)
    parser.add_class_arguments(DoctorConfig, "model.doctor")
    parser.add_class_arguments(GRPOConfig, "model.grpo")
    parser.add_class_arguments(CaseDataModule, "data", fail_untyped=False)
    parser.add_class_arguments(AdapterCheckpoint, "checkpoint", fail_untyped=False,
                               skip=_without(ModelCheckpoint, {"every_n_train_steps", "save_top_k", "dirpath"}))
    parser.add_class_arguments(TranscriptLogger, "transcripts", fail_untyped=False)
    options = parser.format_help().split("\n", 2)[-1].replace("  --model CONFIG        Path to a configuration file.\n", "")
    listed = "\n".join(f"  {short:<26} = {long}" for short, long in aliases.items())
    listed += f"\n  {api_key_flag + ' KEY':<26} = the OPENAI_API_KEY environment variable (never saved)"
    return HEADER.format(aliases=listed) + "\n" + options.rstrip() + "\n\n" + FOOTER
