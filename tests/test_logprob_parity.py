"""The loss scores what was sampled: per token, the log-prob the GRPO loss computes for a sampled id
equals the log-prob of that id under the distribution the sampler drew it from.

The sampler is the real `InverseCDFSampler` running inside `Doctor.sample`; a subclass records, at each
decode step, log p(drawn token) under exactly the scores it drew from (after every processor
`generate` ran before it). The loss side is `DiagnosisGRPO._log_probs` on the same ids. fp32, T = 0.7,
and a model whose `generation_config.json` asks for a repetition penalty and top-k.
"""

import json
import logging
import shutil

import pytest
import torch

from grpodx.doctor import DoctorConfig, policy
from grpodx.doctor.sampling import InverseCDFSampler
from grpodx.module import DiagnosisGRPO
from grpodx.sequences import Row, collate
from tests.conftest import scaled_head_copy

PENALISED = {"repetition_penalty": 1.05, "top_k": 20}


class RecordingSampler(InverseCDFSampler):
    """The real sampler, plus a record of log p(drawn token) under the scores it drew from."""

    steps: list[torch.Tensor] = []

    def __call__(self, input_ids, scores):
        out = super().__call__(input_ids, scores)
        drawn = out.argmax(-1, keepdim=True)
        log_probs = torch.log_softmax(scores.float() / self.temperature, dim=-1)
        RecordingSampler.steps.append(log_probs.gather(-1, drawn).squeeze(-1))
        return out


@pytest.fixture(scope="module")
def repeating_model_dir(tiny_model_dir, tmp_path_factory) -> str:
    """The tiny model with embeddings 40x larger, so its next token is often one already in the
    context (as real models' often are): only then does a repetition penalty change what is drawn.
    At the 0.02 init its logits are so flat the penalty moves a sampled token's log-prob ~1e-6."""
    return scaled_head_copy(tiny_model_dir, 40.0, tmp_path_factory.mktemp("repeating-doctor"))


def _with_generation_config(model_dir: str, folder, extra: dict) -> str:
    shutil.copytree(model_dir, folder)
    path = folder / "generation_config.json"
    config = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**config, **extra}))
    return str(folder)


def sampled_vs_scored(model_dir: str, temperature: float, monkeypatch, reuse_kv_cache: bool = False) -> torch.Tensor:
    """|sampled log-prob - scored log-prob| for every token of a batched two-turn sample."""
    monkeypatch.setattr(policy, "InverseCDFSampler", RecordingSampler)
    module = DiagnosisGRPO(doctor=DoctorConfig(model=model_dir, max_new_tokens=16, lora_rank=4, lora_alpha=8,
                                               temperature=temperature, reuse_kv_cache=reuse_kv_cache))
    module.configure_model()
    torch.manual_seed(0)
    with torch.no_grad():  # a trained adapter, not the zero B of a fresh one
        for name, param in module.policy.model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.05)
    doctor = module.policy
    prompts = [doctor.prompt_ids([{"role": "user", "content": text}])
               for text in ("I have a cough.", "My head hurts since yesterday and I feel sick.")]
    cache, keys = doctor.turn_cache(), ["a", "b"]
    gaps = []
    for _ in range(2):  # a second turn extends each prompt by the first reply (and reuses the cache)
        RecordingSampler.steps = []
        completions = doctor.sample(prompts, turn_cache=cache, keys=keys if cache is not None else None)
        sampled = torch.stack(RecordingSampler.steps, dim=1)  # [rows, steps]
        for b, (prompt, completion) in enumerate(zip(prompts, completions)):
            batch = collate([Row(0, prompt + completion, len(prompt))], doctor.tokenizer.pad_token_id)
            with torch.no_grad():
                scored = module._log_probs(batch)
            gaps.append((scored - sampled[b, : len(completion)]).abs())
        prompts = [p + c + doctor.prompt_ids([{"role": "user", "content": "Go on."}])[1:]
                   for p, c in zip(prompts, completions)]
    return torch.cat(gaps)


@pytest.mark.parametrize("temperature, generation_config", [
    (0.7, PENALISED),  # the check
    (0.7, None),  # temperature alone
    (1.0, PENALISED),  # the model's generation config alone
])
def test_sampled_and_scored_log_probs_agree(repeating_model_dir, tmp_path, monkeypatch, temperature, generation_config):
    model_dir = repeating_model_dir
    if generation_config:
        model_dir = _with_generation_config(repeating_model_dir, tmp_path / "model", generation_config)
    gap = sampled_vs_scored(model_dir, temperature, monkeypatch)
    print(f"T={temperature} generation_config={generation_config}: {gap.numel()} tokens, "
          f"mean {gap.mean():.2e}, max {gap.max():.2e} nats/token")
    assert gap.numel() > 20
    assert gap.max() < 1e-4, (gap.mean(), gap.max())


def test_parity_holds_through_the_cross_turn_kv_cache(repeating_model_dir, tmp_path, monkeypatch):
    model_dir = _with_generation_config(repeating_model_dir, tmp_path / "model", PENALISED)
    gap = sampled_vs_scored(model_dir, 0.7, monkeypatch, reuse_kv_cache=True)
    assert gap.max() < 1e-4, (gap.mean(), gap.max())


def test_one_warning_names_the_ignored_generation_fields(repeating_model_dir, tmp_path, caplog):
    model_dir = _with_generation_config(repeating_model_dir, tmp_path / "model", PENALISED)
    with caplog.at_level(logging.WARNING, logger=policy.__name__):
        module = DiagnosisGRPO(doctor=DoctorConfig(model=model_dir, lora_rank=4, lora_alpha=8))
        module.configure_model()
    warned = [r.getMessage() for r in caplog.records if r.name == policy.__name__]
    assert len(warned) == 1 and "repetition_penalty=1.05" in warned[0] and "top_k=20" in warned[0], warned
    assert module.policy.model.get_base_model().generation_config.repetition_penalty is None
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=policy.__name__):
        DiagnosisGRPO(doctor=DoctorConfig(model=repeating_model_dir, lora_rank=4, lora_alpha=8)).configure_model()
    assert not [r for r in caplog.records if r.name == policy.__name__]  # nothing to ignore: no warning
