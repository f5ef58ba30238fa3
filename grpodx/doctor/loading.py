"""Load the doctor's weights and wrap them with a LoRA adapter (transformers+peft, or Unsloth)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
from pathlib import Path

import torch

from grpodx.doctor.config import DoctorConfig
from grpodx.doctor.reference import ModelSource, resolve_model_reference


def cache_root() -> Path:
    """Where converted GGUF models live: $GRPODX_CACHE or ~/.cache/grpodx."""
    return Path(os.environ.get("GRPODX_CACHE", Path.home() / ".cache" / "grpodx"))


def converted_gguf_dir(source: ModelSource) -> Path:
    """A dequantised copy of a packaged GGUF model, converted once and reused (0.5 s vs ~18 s)."""
    gguf = Path(source.path) / source.gguf_file
    version = importlib.metadata.version(source.package.replace("_", "-")) if source.package else "local"
    target = cache_root() / "models" / f"{source.package}-{version}-{gguf.stem}-{gguf.stat().st_size}"
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
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, config.dtype))
    return model, tokenizer


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
        model = add_lora(model, config)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model, tokenizer
