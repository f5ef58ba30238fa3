"""A trained doctor back from disk: an exported PEFT adapter folder, a LoRA-only Lightning
checkpoint, or the base model alone (for chat, evaluation and anything else outside training)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch

from grpodx.doctor.config import DEFAULT_MODEL, DoctorConfig
from grpodx.doctor import load_doctor
from grpodx.doctor.loading import load_base_model
from grpodx.doctor.policy import Doctor
from grpodx.errors import ConfigError

POLICY_PREFIX = "policy."  # DiagnosisGRPO owns the Doctor as `self.policy`


@dataclass
class LoraCheckpoint:
    """What a training checkpoint holds that matters outside training.

    `state_dict` keys are the module's (`policy.model...lora_A.default.weight`); `doctor` and
    `max_turns` are the run's hyper-parameters, so a checkpoint restores without its config file.
    """

    path: str
    state_dict: dict[str, torch.Tensor]
    doctor: DoctorConfig
    max_turns: int | None = None
    global_step: int = 0
    hyper_parameters: dict = field(default_factory=dict)


def read_checkpoint(path: str, flag: str = "--checkpoint") -> LoraCheckpoint:
    """Load a checkpoint written by DiagnosisGRPO (LoRA weights + plain-dict hyper-parameters).

    weights_only=True: a checkpoint is data, never code (DiagnosisGRPO saves plain dicts for this).
    """
    if not Path(path).is_file():
        raise ConfigError(flag, f"checkpoint {path!r} does not exist", "give a .ckpt file from runs/*/checkpoints/")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling errors carry long, many-line messages
        raise ConfigError(flag, f"{path!r} is not a readable checkpoint ({type(error).__name__})",
                          "give a .ckpt file written by `train.py fit`") from error
    if not isinstance(raw, dict) or not raw.get("state_dict"):
        raise ConfigError(flag, f"{path!r} holds no state_dict", "give a .ckpt file written by `train.py fit`")
    hparams = raw.get("hyper_parameters") or {}
    doctor = hparams.get("doctor") or {}
    known = {f.name for f in dataclasses.fields(DoctorConfig)}
    config = DoctorConfig(**{k: v for k, v in doctor.items() if k in known}) if isinstance(doctor, dict) else doctor
    return LoraCheckpoint(path, raw["state_dict"], config, hparams.get("max_turns"),
                          int(raw.get("global_step", 0)), hparams)


def load_lora_weights(target: torch.nn.Module, checkpoint: LoraCheckpoint, prefix: str = "",
                      flag: str = "--checkpoint") -> None:
    """Copy the checkpoint's LoRA weights into `target` (the module, or a Doctor with prefix
    `policy.`), failing when any checkpoint weight has no place in it: a silent partial load would
    evaluate or chat with a half-trained model."""
    weights = {k[len(prefix):]: v for k, v in checkpoint.state_dict.items() if k.startswith(prefix)}
    hint = "use the run's own config (runs/<name>/version_N/config.yaml) or the model it was trained on"
    if len(weights) != len(checkpoint.state_dict):
        raise ConfigError(flag, f"{checkpoint.path!r} has weights outside {prefix!r}", hint)
    try:
        result = target.load_state_dict(weights, strict=False)
    except RuntimeError as error:  # shape mismatch: another LoRA rank or base model
        first = next((line.strip() for line in str(error).splitlines() if "size mismatch" in line), str(error))
        raise ConfigError(flag, f"the checkpoint does not fit this doctor: {first[:200]}", hint) from error
    if result.unexpected_keys:
        raise ConfigError(flag, f"{len(result.unexpected_keys)} checkpoint weights have no place in this doctor, "
                          f"e.g. {result.unexpected_keys[0]}", hint)


def restore_doctor(model: str | None = None, adapter: str | None = None, saved: LoraCheckpoint | None = None,
                   **overrides) -> Doctor:
    """A Doctor in eval mode: base model + adapter folder, base + checkpoint LoRA, or base alone.

    `model` overrides the base model reference (default: the checkpoint's, else the embedded
    default); `overrides` that are not None set other DoctorConfig fields (sampling, dtype).
    """
    if adapter and saved:
        raise ConfigError("--adapter", "give either --adapter or --checkpoint, not both", "drop one of them")
    config = saved.doctor if saved else DoctorConfig()
    config = dataclasses.replace(config, model=model or (config.model if saved else DEFAULT_MODEL),
                                 **{k: v for k, v in overrides.items() if v is not None})
    config.validate()
    if adapter:
        doctor = _with_adapter(config, adapter)
    else:  # a fresh LoRA adapter starts with B = 0: exactly the base model until weights load
        doctor = load_doctor(config)
        if saved:
            load_lora_weights(doctor, saved, prefix=POLICY_PREFIX)
    doctor.eval()
    return doctor


def _with_adapter(config: DoctorConfig, adapter: str) -> Doctor:
    from peft import PeftModel

    if not (Path(adapter) / "adapter_config.json").is_file():
        raise ConfigError("--adapter", f"{adapter!r} has no adapter_config.json",
                          "give a runs/<name>/version_N/checkpoints/*-adapter folder")
    base, tokenizer = load_base_model(config)
    model = PeftModel.from_pretrained(base, adapter)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"  # the same batch layout load_doctor_model sets up for training
    return Doctor(model, tokenizer, config)
