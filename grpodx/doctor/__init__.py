"""The doctor: a chat LLM with a LoRA adapter, its prompt, and batched sampling."""

from grpodx.doctor.config import DoctorConfig
from grpodx.doctor.policy import Doctor

__all__ = ["Doctor", "DoctorConfig"]
