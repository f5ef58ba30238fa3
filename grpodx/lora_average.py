"""Average several LoRA runs exactly: one checkpoint whose weight delta is the mean of theirs.

    python -m grpodx.lora_average --out runs/average \\
        runs/seed1/version_0/checkpoints/last.ckpt runs/seed2/version_0/checkpoints/last.ckpt

Why: a short GRPO run's update is mostly rollout noise (issue 12: the same recipe moved held-out
top-1 by +0.06 with one seed and -0.06 with another); averaging runs of one recipe from one start
keeps what they share and shrinks what they do not. Averaging the A and B matrices would not give
the mean of the products B_i A_i; stacking them does, exactly, in a LoRA of k times the rank:

    mean_i (alpha / r) B_i A_i  ==  (k alpha / (k r)) [B_1 ... B_k] / k  @  [A_1; ...; A_k]

Writes OUT/checkpoints/last.ckpt (for `grpodx.evaluate --ckpt_path`, `bench.learning --grpo`,
`grpodx.chat`), OUT/checkpoints/last-adapter/ (a PEFT folder: ship it, or continue from it with
`model.doctor.adapter` and the rank and alpha it records) and OUT/config.yaml (the first run's, with
the new rank and alpha), so the folder reads as a run folder.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import torch

from grpodx.entry import entry_parser
from grpodx.errors import ConfigError, one_line_errors

HELP = "python -m grpodx.lora_average --help"
LORA_A, LORA_B = ".lora_A.", ".lora_B."


def average_lora(state_dicts: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The rank-k*r LoRA whose delta B'A' is the mean of the k deltas B_i A_i (same alpha/r scale
    once alpha is multiplied by k too): A' stacks the A_i by rows, B' the B_i / k by columns."""
    k = len(state_dicts)
    averaged = {}
    for key in state_dicts[0]:
        parts = [weights[key] for weights in state_dicts]
        if LORA_A in key:
            averaged[key] = torch.cat(parts, dim=0).contiguous()
        elif LORA_B in key:
            averaged[key] = (torch.cat(parts, dim=1) / k).contiguous()
        else:
            raise ValueError(f"{key!r} is not a LoRA A or B weight")
    return averaged


def lora_delta(state_dict: dict[str, torch.Tensor], a_key: str) -> torch.Tensor:
    """B @ A of one adapted module (the unscaled delta), for checks."""
    return state_dict[a_key.replace(LORA_A, LORA_B)] @ state_dict[a_key]


def _read(paths: list[str]):
    """Each checkpoint (a LoraCheckpoint), after checking that they can be averaged (before anything
    is written)."""
    from grpodx.doctor.restore import read_checkpoint

    if len(paths) < 2:
        raise ConfigError("checkpoints", f"{len(paths)} given", "give two or more last.ckpt files of one recipe")
    saved = [read_checkpoint(path, "checkpoints") for path in paths]
    first = saved[0]
    shape = ("model", "lora_rank", "lora_alpha", "target_modules")
    for other in saved[1:]:
        for field in shape:
            if getattr(other.doctor, field) != getattr(first.doctor, field):
                raise ConfigError("checkpoints", f"{other.path!r} has doctor.{field} {getattr(other.doctor, field)!r}, "
                                  f"{first.path!r} {getattr(first.doctor, field)!r}",
                                  "average runs of one base model and one LoRA shape")
        if set(other.state_dict) != set(first.state_dict):
            raise ConfigError("checkpoints", f"{other.path!r} adapts other modules than {first.path!r}",
                              "average runs of one base model and one LoRA shape")
    if any(LORA_A not in key and LORA_B not in key for key in first.state_dict):
        raise ConfigError("checkpoints", f"{first.path!r} holds weights other than LoRA A and B",
                          "give checkpoints written by train.py fit")
    return saved


def _peft_key(key: str) -> str:
    """`policy.model.<peft path>.lora_A.default.weight` -> the PEFT file's `<peft path>.lora_A.weight`."""
    from grpodx.doctor.restore import POLICY_PREFIX

    return key.removeprefix(f"{POLICY_PREFIX}model.").replace(".default.weight", ".weight")


def average_checkpoints(paths: list[str], out: Path) -> Path:
    """Write the averaged run folder `out`; returns its last.ckpt."""
    from safetensors.torch import save_file

    saved = _read(paths)
    if out.exists():
        raise ConfigError("--out", f"{str(out)!r} already exists", "give a new folder")
    k, first = len(saved), saved[0]
    exported = Path(first.path).with_name(Path(first.path).stem + "-adapter")
    peft_config = (json.loads((exported / "adapter_config.json").read_text(encoding="utf-8"))
                   if (exported / "adapter_config.json").is_file() else None)
    if peft_config and peft_config.get("use_rslora"):
        raise ConfigError("checkpoints", "the adapter uses rsLoRA (scale alpha/sqrt(r))",
                          "average adapters with the plain alpha/r scale")
    rank, alpha = k * first.doctor.lora_rank, k * first.doctor.lora_alpha
    averaged = average_lora([s.state_dict for s in saved])
    doctor = dict(dataclasses.asdict(first.doctor), lora_rank=rank, lora_alpha=alpha, adapter=None)  # weights are in the ckpt
    folder = out / "checkpoints"
    folder.mkdir(parents=True)
    ckpt = folder / "last.ckpt"
    torch.save({"state_dict": averaged, "global_step": first.global_step, "averaged_from": [s.path for s in saved],
                "hyper_parameters": dict(first.hyper_parameters, doctor=doctor)}, ckpt)

    if peft_config is not None:
        adapter = folder / "last-adapter"
        adapter.mkdir()
        for item in exported.iterdir():
            if item.is_file() and item.name not in ("adapter_config.json", "adapter_model.safetensors"):
                shutil.copy(item, adapter / item.name)
        (adapter / "adapter_config.json").write_text(json.dumps(dict(peft_config, r=rank, lora_alpha=alpha), indent=2))
        save_file({_peft_key(key): value for key, value in averaged.items()}, str(adapter / "adapter_model.safetensors"))

    run_config = Path(first.path).resolve().parent.parent / "config.yaml"
    if run_config.is_file():
        import yaml

        content = yaml.safe_load(run_config.read_text(encoding="utf-8"))
        doctor_args = content["model"].get("init_args", content["model"])["doctor"]
        doctor_args.update(lora_rank=rank, lora_alpha=alpha, adapter=None)
        content.pop("ckpt_path", None)
        (out / "config.yaml").write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return ckpt


def main(argv: list[str] | None = None) -> None:
    parser = entry_parser("python -m grpodx.lora_average", __doc__)
    parser.add_argument("checkpoints", nargs="+", help="last.ckpt files of runs of one recipe from one start")
    parser.add_argument("--out", required=True, help="the run folder to write (must not exist)")
    with one_line_errors(HELP):
        args = parser.parse_args(argv)
        ckpt = average_checkpoints(list(args.checkpoints), Path(args.out).expanduser())
    print(f"averaged {len(args.checkpoints)} runs: {ckpt}")
    if not (ckpt.parent / "last-adapter").is_dir():
        print(f"no adapter folder: {args.checkpoints[0]} has no exported adapter beside it to copy the PEFT config from")
    print(f"evaluate it: python -m grpodx.evaluate --ckpt_path {ckpt} --out reports/{Path(args.out).name}")


if __name__ == "__main__":
    main()
