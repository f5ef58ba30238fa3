"""Does a checkpoint's LoRA state fit the model it is loaded into?

Checkpoints hold only the LoRA weights, so the module loads them with `strict_loading = False`;
that would let a checkpoint saved at another rank or with other target modules load silently (in
part, or not at all). This check runs first and names the config field that differs.
"""

from __future__ import annotations

import re

import torch

from grpodx.errors import ConfigError

_LORA = re.compile(r"\.([^.]+)\.lora_[AB]\.")  # the adapted module's own name: ...q_proj.lora_A.default.weight
FIX = "resume with the run's own doctor settings (runs/<name>/version_N/config.yaml) or start a new run"


def target_modules(names) -> list[str]:
    """The module names a set of LoRA weight names adapts, e.g. ['q_proj', 'v_proj']."""
    return sorted({m.group(1) for m in map(_LORA.search, names) if m})


def lora_ranks(shapes: dict[str, torch.Size]) -> list[int]:
    """The ranks of the lora_A weights ([r, in_features])."""
    return sorted({int(shape[0]) for name, shape in shapes.items() if ".lora_A." in name})


def check_lora_state(saved: dict[str, torch.Tensor], expected: dict[str, torch.Size],
                     field: str = "model.init_args.doctor") -> None:
    """Raise one ConfigError line unless `saved` has exactly the `expected` weight names and shapes."""
    missing, unexpected = sorted(expected.keys() - saved.keys()), sorted(saved.keys() - expected.keys())
    if missing or unexpected:
        ours, theirs = target_modules(expected), target_modules(saved)
        if ours != theirs:
            raise ConfigError(f"{field}.target_modules", f"checkpoint LoRA adapts {theirs} vs model {ours}", FIX)
        raise ConfigError(field, f"checkpoint LoRA weights do not match the model's: {len(missing)} missing "
                          f"(e.g. {(missing or ['-'])[0]}), {len(unexpected)} unexpected "
                          f"(e.g. {(unexpected or ['-'])[0]})", FIX)
    wrong = [name for name in sorted(saved) if tuple(saved[name].shape) != tuple(expected[name])]
    if not wrong:
        return
    ours, theirs = lora_ranks(expected), lora_ranks({k: v.shape for k, v in saved.items()})
    if ours != theirs:
        show = lambda ranks: "/".join(map(str, ranks))  # noqa: E731
        raise ConfigError(f"{field}.lora_rank", f"checkpoint LoRA rank {show(theirs)} vs model rank {show(ours)}", FIX)
    name = wrong[0]
    raise ConfigError(field, f"checkpoint weight {name} has shape {tuple(saved[name].shape)} vs model "
                      f"{tuple(expected[name])} (another base model?)", FIX)
