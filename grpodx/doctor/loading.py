"""Load the doctor's weights and wrap them with a LoRA adapter (transformers+peft, or Unsloth):
a fresh one, or a saved PEFT adapter to continue from (`adapter:`, checked before weights load)."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import tempfile
from pathlib import Path

import torch

from grpodx.cache import cache_root
from grpodx.doctor.config import DoctorConfig
from grpodx.doctor.reference import ModelSource, resolve_model_reference
from grpodx.errors import ConfigError

ADAPTER_HINT = "give a PEFT adapter folder, e.g. runs/<name>/version_N/checkpoints/last-adapter"


def converted_gguf_path(source: ModelSource) -> Path:
    """Where the dequantised copy of a packaged GGUF model lives (whether or not converted yet)."""
    gguf = Path(source.path) / source.gguf_file
    version = importlib.metadata.version(source.package.replace("_", "-")) if source.package else "local"
    return cache_root() / "models" / f"{source.package}-{version}-{gguf.stem}-{gguf.stat().st_size}"


def converted_gguf_dir(source: ModelSource) -> Path:
    """A dequantised copy of a packaged GGUF model, converted once and reused (0.5 s vs ~18 s)."""
    target = converted_gguf_path(source)
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file)
    model = AutoModelForCausalLM.from_pretrained(source.path, gguf_file=source.gguf_file, dtype=torch.float32)
    model.hf_quantizer = None  # a GGUF-loaded model refuses save_pretrained while this is set
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config  # the saved weights are plain dequantised tensors
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".converting-"))
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    try:
        staging.rename(target)  # atomic: a concurrent rank either wins or finds the finished copy
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def load_base_model(config: DoctorConfig):
    """The frozen base model and its tokenizer, for the transformers backend."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model_reference(config.model)
    path = converted_gguf_dir(source) if source.gguf_file else source.path
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, config.torch_dtype))
    return model, tokenizer


def load_tokenizer(model: str):
    """The tokenizer alone (e.g. to count a demonstration's tokens), from the same place as the weights."""
    from transformers import AutoTokenizer

    source = resolve_model_reference(model)
    return AutoTokenizer.from_pretrained(converted_gguf_dir(source) if source.gguf_file else source.path)


def base_model_name(model: str) -> str:
    """The last path component of the folder the base weights load from (a hub id's name): what a
    saved adapter's `base_model_name_or_path` ends with when it was trained on the same base."""
    source = resolve_model_reference(model)
    return (converted_gguf_path(source) if source.gguf_file else Path(source.path)).name


def check_adapter(config: DoctorConfig, field: str) -> None:
    """A starting adapter must be a PEFT LoRA folder for this base with this LoRA shape; checked from
    its adapter_config.json before any weights load, so a wrong path costs no load time."""
    folder = Path(config.adapter).expanduser()
    if not folder.is_dir():
        raise ConfigError(field, f"adapter folder {config.adapter!r} does not exist", ADAPTER_HINT)
    if config.backend != "transformers":
        raise ConfigError(field, f"starting from an adapter needs backend: transformers, not {config.backend!r}",
                          "set model.doctor.backend: transformers, or drop model.doctor.adapter")
    try:
        saved = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(field, f"{config.adapter!r} is not a PEFT adapter (no readable adapter_config.json)",
                          ADAPTER_HINT) from error
    weights = [folder / "adapter_model.safetensors", folder / "adapter_model.bin"]
    if not isinstance(saved, dict) or saved.get("peft_type") != "LORA" or not any(w.is_file() for w in weights):
        raise ConfigError(field, f"{config.adapter!r} is not a PEFT LoRA adapter (peft_type "
                          f"{saved.get('peft_type') if isinstance(saved, dict) else None!r}, weights present: "
                          f"{any(w.is_file() for w in weights)})", ADAPTER_HINT)
    base = saved.get("base_model_name_or_path")
    expected = base_model_name(config.model)
    if base and Path(str(base)).name.lower() != expected.lower():
        raise ConfigError(field, f"the adapter was trained on {base!r}, not on {config.model!r} ({expected})",
                          "set model.doctor.model to the adapter's base model, or give an adapter of this one")
    for key, ours, theirs in (("lora_rank", config.lora_rank, saved.get("r")),
                              ("lora_alpha", config.lora_alpha, saved.get("lora_alpha"))):
        if theirs is not None and theirs != ours:
            raise ConfigError(field, f"the adapter has {key} {theirs}, the config {ours}",
                              f"set model.doctor.{key}: {theirs} to continue from this adapter")
    targets = saved.get("target_modules")
    if isinstance(targets, (list, tuple)) and set(targets) != set(config.target_modules):
        raise ConfigError(field, f"the adapter adapts {sorted(targets)}, the config {sorted(config.target_modules)}",
                          f"set model.doctor.target_modules: {sorted(targets)}")


def load_adapter(model, config: DoctorConfig):
    """Wrap `model` in the saved adapter as the trainable starting LoRA (adapter name `default`, as
    a fresh one, so checkpoints and exports read the same); dropout follows the config."""
    from peft import LoraConfig, PeftModel

    lora = LoraConfig.from_pretrained(str(Path(config.adapter).expanduser()))
    lora.lora_dropout = config.lora_dropout
    try:
        return PeftModel.from_pretrained(model, str(Path(config.adapter).expanduser()), is_trainable=True, config=lora)
    except RuntimeError as error:  # shape mismatch: the same folder name over another architecture
        first = next((line.strip() for line in str(error).splitlines() if "size mismatch" in line), str(error))
        raise ConfigError("model.init_args.doctor.adapter", f"the adapter does not fit this model: {first[:200]}",
                          "give an adapter trained on model.doctor.model") from error


def add_lora(model, config: DoctorConfig):
    """Wrap `model` in a trainable LoRA adapter; the base weights stay frozen."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=list(config.target_modules), task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def load_unsloth(config: DoctorConfig):
    """4-bit base + LoRA through Unsloth's FastLanguageModel (CUDA only; checked in DoctorConfig)."""
    from unsloth import FastLanguageModel

    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=config.model, max_seq_length=config.max_seq_length, load_in_4bit=config.load_in_4bit)
    model = FastLanguageModel.get_peft_model(
        model, r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules), use_gradient_checkpointing="unsloth")
    return model, tokenizer


def load_doctor_model(config: DoctorConfig):
    """(peft model, tokenizer) for either backend, tokenizer set up for left-padded batches."""
    if config.backend == "unsloth":
        model, tokenizer = load_unsloth(config)
    else:
        model, tokenizer = load_base_model(config)
        model = load_adapter(model, config) if config.adapter else add_lora(model, config)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model, tokenizer
