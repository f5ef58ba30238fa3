"""How every console script reads its options: jsonargparse, as train.py's LightningCLI does.

A parser from here also takes `--config FILE.yaml` (keys are the option names: `max_turns: 5`), and
raises its errors instead of exiting, so grpodx.errors.one_line_errors turns them into the one
`error:` line and exit 2 that train.py gives.
"""

from __future__ import annotations

import argparse

from jsonargparse import ActionConfigFile, ArgumentParser, DefaultHelpFormatter


class _Formatter(DefaultHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The module docstring's usage examples keep their lines."""


def entry_parser(prog: str, doc: str | None, config_file: bool = True) -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description=doc, exit_on_error=False, formatter_class=_Formatter)
    if config_file:
        parser.add_argument("--config", action=ActionConfigFile, help="a YAML file of these options")
    return parser
