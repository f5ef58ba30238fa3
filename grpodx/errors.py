"""The one error type users see for bad configuration or input, and the one rule every entry point
ends with on bad input: one `error:` line naming the field and the fix, exit 2."""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager

from jsonargparse import ArgumentError


class RolloutInterrupted(Exception):
    """A stop was asked for (SIGTERM: callbacks.Preemption) in the middle of a step: the partial
    rollout or update is dropped, nothing is half-applied to the weights."""


class ConfigError(ValueError):
    """A bad value in a named field, with the fix; train.py prints it as one line and exits 2."""

    def __init__(self, field: str, problem: str, fix: str):
        self.field, self.problem, self.fix = field, problem, fix
        super().__init__(f"{field}: {problem} -- {fix}")


@contextmanager
def one_line_errors(help_command: str):
    """Bad input ends the program with one `error:` line naming the field and the fix (exit 2);
    every entry point runs inside it (train.py, evaluate, chat, the demonstrations, ...)."""
    try:
        yield
    except ConfigError as error:
        _fail(str(error))
    except ArgumentError as error:
        _fail(_one_line(str(error)) + f" -- see `{help_command}`")
    except Exception as error:  # jsonargparse wraps errors raised inside nested class_path objects
        cause = error
        while cause is not None and not isinstance(cause, ConfigError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        _fail(str(cause))


def _one_line(message: str) -> str:
    """jsonargparse explains nested failures over many lines; users get the full key and the reason."""
    lines = [line.strip(" -") for line in message.splitlines() if line.strip(" -")]
    keys, reason = [], ""
    for i, line in enumerate(lines):
        key = re.match(r'Parser key "([^"]+)":\s*(.*)', line)
        if key:
            keys.append(key.group(1))
            reason = key.group(2) or (lines[i + 1] if i + 1 < len(lines) else "")
        elif line.startswith("Problem with given class_path") and i + 1 < len(lines):
            reason = lines[i + 1]  # the class's own complaint ("Option 'x' is not accepted")
    if not keys:
        return lines[0] if lines else message
    return f"{'.'.join(keys)}: {reason}"


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)
