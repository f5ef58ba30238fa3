"""One decode step of the default doctor (bf16, LoRA merged) with SDPA vs `decode_attention`, and a
prefill beside it. `python -m bench.decode_attention`. Prints a table and, last, one JSON line."""

from __future__ import annotations

import json
import time

import torch
from transformers import DynamicCache

from bench.common import default_doctor
from grpodx.doctor.decode_attention import cpu_decode_attention


def decode_step_ms(model, batch: int, context: int, steps: int = 10) -> float:
    ids = torch.randint(100, 10000, (batch, context))
    cache = DynamicCache(config=model.config)
    model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=1)
    token = torch.randint(100, 10000, (batch, 1))
    started = time.perf_counter()
    for _ in range(steps):
        model(input_ids=token, cache=cache, use_cache=True, logits_to_keep=1)
        cache.crop(-1)
    return (time.perf_counter() - started) / steps * 1000


def main() -> None:
    torch.manual_seed(0)
    doctor = default_doctor()
    model = doctor.model
    model.eval()
    figures = {}
    with torch.no_grad(), doctor._merged_adapter():
        for batch, context in ((1, 500), (16, 100), (16, 500)):
            sdpa = decode_step_ms(model, batch, context)
            with cpu_decode_attention(model):
                ours = decode_step_ms(model, batch, context)
            figures[f"decode_ms_sdpa_b{batch}_t{context}"] = round(sdpa, 1)
            figures[f"decode_ms_ours_b{batch}_t{context}"] = round(ours, 1)
            figures[f"decode_speedup_b{batch}_t{context}"] = round(sdpa / ours, 2)
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
