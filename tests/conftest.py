"""Shared fixtures: a tiny randomly initialised chat model, cases, and the shared DDXPlus folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from grpodx.judges import Judge

ROOT = Path(__file__).resolve().parents[1]
SHARED_DDXPLUS = ROOT.parent / "shared" / "data" / "ddxplus"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """A 2-layer random Llama with the real SmolLM2 tokenizer and chat template, saved locally.

    Integration tests use it so they exercise the real loading, LoRA, generation and loss code in
    seconds; only the end-to-end test loads the real default model.
    """
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from grpodx.doctor.config import DEFAULT_MODEL
    from grpodx.doctor.reference import resolve_model_reference

    source = resolve_model_reference(DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(source.path, gguf_file=source.gguf_file)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    model = LlamaForCausalLM(config)
    folder = tmp_path_factory.mktemp("tiny-doctor")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_doctor(tiny_model_dir):
    from grpodx.doctor import Doctor, DoctorConfig
    from grpodx.doctor.loading import load_doctor_model

    config = DoctorConfig(model=tiny_model_dir, max_new_tokens=12, lora_rank=4, lora_alpha=8)
    model, tokenizer = load_doctor_model(config)
    return Doctor(model, tokenizer, config)


@pytest.fixture(scope="session")
def kb():
    from grpodx.knowledge import embedded_knowledge_base

    return embedded_knowledge_base()


@pytest.fixture()
def ddxplus_dir() -> Path:
    if not SHARED_DDXPLUS.is_dir():
        pytest.skip(f"DDXPlus data not found at {SHARED_DDXPLUS} (it lives in ../shared beside the checkout)")
    return SHARED_DDXPLUS


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch, tmp_path_factory):
    """Keep converted models in one place per session unless CI/user chose one."""
    if "GRPODX_CACHE" not in os.environ:
        monkeypatch.setenv("GRPODX_CACHE", str(Path.home() / ".cache" / "grpodx"))


class ParityJudge(Judge):
    """A real, deterministic judge for integration tests on a random model: the share of the
    doctor's sampled token ids that are even. A random model never diagnoses, so the offline judge
    would score every episode 0 and leave no gradient to test; this reward varies within a group."""

    def score_batch(self, episodes):
        from grpodx.episode import Score

        out = []
        for e in episodes:
            ids = [i for t in e.doctor_turns for i in t.completion_ids]
            value = sum(i % 2 == 0 for i in ids) / max(len(ids), 1)
            out.append(Score(value, {"parity": value}))
        return out
