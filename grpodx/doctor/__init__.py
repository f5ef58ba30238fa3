"""The doctor: a chat LLM with a LoRA adapter, its prompt, and batched sampling."""

from grpodx.doctor.config import DoctorConfig
from grpodx.doctor.policy import Doctor
from grpodx.doctor.unsloth_doctor import UnslothDoctor

BACKENDS: dict[str, type[Doctor]] = {"transformers": Doctor, "unsloth": UnslothDoctor}


def load_doctor(config: DoctorConfig) -> Doctor:
    """The doctor of `config.backend`, weights loaded (LoRA fresh, or `config.adapter`'s)."""
    from grpodx.doctor.loading import load_doctor_model

    model, tokenizer = load_doctor_model(config)
    return BACKENDS[config.backend](model, tokenizer, config)


__all__ = ["BACKENDS", "Doctor", "DoctorConfig", "UnslothDoctor", "load_doctor"]
