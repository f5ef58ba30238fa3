"""Rollout throughput: our batched multi-turn rollout vs plain `generate` and vs the seed's
one-episode-at-a-time loop, on the default model. `python -m bench.rollout [--cases 4 --group-size 4]`.

The seed's loop runs one episode at batch 1 and re-encodes the whole conversation every turn (it had
no cross-turn KV cache); our rollout is also timed with the cache switched off, to show what each
of batching and cache re-use buys.

Prints a table and, last, one JSON line with `rollout_vs_generate` and `rollout_vs_sequential`.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from bench.common import bench_cases, default_doctor
from grpodx.doctor.turn_cache import left_padded
from grpodx.environment import DiagnosisEnvironment
from grpodx.judges import OfflineJudge
from grpodx.patients import OfflinePatient


def plain_generate_tokens_per_s(doctor, prompts_by_turn, max_new_tokens: int) -> float:
    """Plain batched `model.generate` on the rollout's own prompts, every row forced to full length."""
    tokens, seconds = 0, 0.0
    for prompts in prompts_by_turn:
        started = time.perf_counter()
        ids, mask = left_padded(prompts, doctor.tokenizer.pad_token_id)
        width = ids.shape[1]
        with torch.no_grad():
            out = doctor.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                        min_new_tokens=max_new_tokens, do_sample=True, top_k=0,
                                        pad_token_id=doctor.tokenizer.pad_token_id)
        seconds += time.perf_counter() - started
        tokens += (out.shape[1] - width) * len(prompts)
    return tokens / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--max-turns", type=int, default=5)
    parser.add_argument("--sequential-episodes", type=int, default=16,
                        help="episodes timed one at a time; the per-episode time is scaled to the full set")
    parser.add_argument("--adapter", help="a PEFT adapter folder to start from (e.g. a warm start's last-adapter)")
    parser.add_argument("--dtype", default="bfloat16", help="the doctor's dtype (float32 on CPUs without bf16 units)")
    parser.add_argument("--rollout-only", action="store_true",
                        help="time the rollout and its slot utilisation only (no plain-generate or sequential runs)")
    args = parser.parse_args()
    torch.manual_seed(0)
    doctor = default_doctor(dtype=args.dtype, adapter=args.adapter)
    cases = bench_cases(args.cases)
    env = DiagnosisEnvironment(OfflinePatient(), OfflineJudge(), args.max_turns)
    env.run(doctor, cases[:1], 2)  # warm-up: kernels, caches

    started = time.perf_counter()
    episodes, stats = env.run(doctor, cases, args.group_size)
    rollout_s = time.perf_counter() - started
    n = len(episodes)
    rollout_tps = stats.doctor_tokens / stats.doctor_seconds
    if args.rollout_only:
        figures = {"episodes": n, "rollout_s": round(rollout_s, 1), "doctor_tokens": stats.doctor_tokens,
                   "rollout_doctor_tokens_per_s": round(rollout_tps, 1),
                   "slot_utilisation": round(stats.slot_utilisation, 3), "turn_batch_sizes": stats.turn_batch_sizes,
                   "turn_decode_steps": stats.turn_decode_steps, "adapter": args.adapter, "dtype": args.dtype}
        print(json.dumps(figures))
        return

    turns = max(e.num_turns for e in episodes)
    prompts_by_turn = [[e.doctor_turns[t].prompt_ids for e in episodes if e.num_turns > t] for t in range(turns)]
    generate_tps = plain_generate_tokens_per_s(doctor, prompts_by_turn, doctor.config.max_new_tokens)

    doctor.config.reuse_kv_cache = False
    torch.manual_seed(0)
    started = time.perf_counter()
    _, stats_no_reuse = env.run(doctor, cases, args.group_size)
    no_reuse_s = time.perf_counter() - started

    started = time.perf_counter()
    for i in range(args.sequential_episodes):  # the seed's way: one episode, batch 1, at a time
        env.run(doctor, [cases[i % len(cases)]], 1)
    sequential_s = (time.perf_counter() - started) / args.sequential_episodes * n

    figures = {
        "episodes": n, "rollout_s": round(rollout_s, 1), "doctor_tokens": stats.doctor_tokens,
        "rollout_doctor_tokens_per_s": round(rollout_tps, 1), "generate_tokens_per_s": round(generate_tps, 1),
        "prompt_tokens_encoded": stats.prompt_tokens_encoded, "prompt_tokens_reused": stats.prompt_tokens_reused,
        "rollout_no_kv_reuse_s": round(no_reuse_s, 1),
        "rollout_no_kv_reuse_doctor_tokens_per_s": round(stats_no_reuse.doctor_tokens_per_s, 1),
        "sequential_s_estimated": round(sequential_s, 1), "turn_batch_sizes": stats.turn_batch_sizes,
        "slot_utilisation": round(stats.slot_utilisation, 3),
        "rollout_vs_generate": round(rollout_tps / generate_tps, 3),
        "rollout_vs_sequential": round(sequential_s / rollout_s, 2),
    }
    for key, value in figures.items():
        print(f"{key:>30}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
