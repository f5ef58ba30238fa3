"""One default training step (16 episodes): wall time, its breakdown, peak memory, the update's
tokens/s beside a naive full-logits forward+backward of the same tokens, and the update's
forward+backward with one row per turn vs one prefix-shared sequence per episode.
`python -m bench.step [--cases 4] [train.py flags]`. Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import lightning as L
import torch

from bench.common import peak_rss_gb
from grpodx.cli import GRPODxCLI
from grpodx.data import CaseDataModule
from grpodx.module import DiagnosisGRPO
from grpodx.sequences import collate, episode_rows, pack


class KeepEpisodes(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.episodes = outputs["episodes"]


def naive_update_seconds(module, episodes) -> tuple[float, int]:
    """Full-vocabulary fp32 logits at every position, log-softmax, backward: the textbook way."""
    rows = episode_rows(episodes, [True] * len(episodes))
    model = module.policy.model
    started, tokens = time.perf_counter(), 0
    for rows_mb in pack(rows, module.grpo_config.micro_batch_tokens):
        mb = collate(rows_mb, module.policy.tokenizer.pad_token_id)
        logits = model(input_ids=mb.input_ids, attention_mask=mb.attention_mask).logits.float()
        log_probs = torch.log_softmax(logits, dim=-1)[mb.rows, mb.positions].gather(1, mb.targets[:, None])
        (-log_probs.mean()).backward()
        tokens += int(mb.attention_mask.sum())
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - started, tokens


def rows_vs_shared_prefixes(module, episodes) -> dict:
    """Forward+backward of every doctor token of the step, one row per turn vs one packed sequence
    per episode (grpodx.prefix_sharing), on the same episodes and micro-batch budget."""
    rows = episode_rows(episodes, [True] * len(episodes))
    g, figures = module.grpo_config, {}
    for name, share in (("rows", False), ("shared", True)):
        batches = list(module.micro_batches(rows, g.micro_batch_tokens, share))
        started = time.perf_counter()
        for mb in batches:
            (-module.batch_log_probs(mb, g.logprob_chunk, module.doctor_config.temperature).sum()).backward()
        figures[f"update_fwd_bwd_{name}_s"] = round(time.perf_counter() - started, 1)
        figures[f"update_tokens_{name}"] = sum(mb.num_tokens for mb in batches)
    module.policy.model.zero_grad(set_to_none=True)
    figures["shared_prefix_speedup"] = round(figures["update_fwd_bwd_rows_s"] / figures["update_fwd_bwd_shared_s"], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=4, help="cases per step (x group_size 4 episodes)")
    args, extra = parser.parse_known_args()  # the rest goes to train.py, e.g. --model.doctor.lora_dropout 0
    keep = KeepEpisodes()
    scratch = tempfile.mkdtemp(prefix="grpodx-bench-")  # config.yaml and transcripts land here, not in the repo
    cli = GRPODxCLI(DiagnosisGRPO, CaseDataModule, run=False, args=[
        "--trainer.default_root_dir", scratch,
        "--config", "configs/default.yaml", "--data.batch_size", str(args.cases), "--trainer.max_steps", "1",
        "--trainer.logger", "false", "--transcripts.console", "false",
        "--trainer.limit_val_batches", "0", "--checkpoint.every_n_train_steps", "0",
        "--checkpoint.save_last", "false", *extra])
    cli.trainer.callbacks.append(keep)
    started = time.perf_counter()
    cli.trainer.fit(cli.model, cli.datamodule)
    fit_s = time.perf_counter() - started
    step_rss = peak_rss_gb()
    m = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    ours_tps = m["train/update_tokens"] / m["time/update_s"] if m["time/update_s"] else 0.0
    figures = {
        "episodes": len(keep.episodes), "step_seconds": round(m["time/step_s"], 1), "fit_seconds": round(fit_s, 1),
        "doctor_generation_s": round(m["time/doctor_s"], 1), "patient_s": round(m["time/patient_s"], 2),
        "judge_s": round(m["time/judge_s"], 3), "update_s": round(m["time/update_s"], 1),
        "logprob_s": round(m["time/logprob_s"], 1), "backward_s": round(m["time/backward_s"], 1),
        "optimizer_s": round(m["time/optimizer_s"], 2),
        "update_tokens": int(m["train/update_tokens"]), "update_tokens_per_s": round(ours_tps, 1),
        "step_peak_rss_gb": round(step_rss, 2),
    }
    for key, value in figures.items():  # printed before the naive pass, which is slow
        print(f"{key:>42}: {value}", flush=True)
    naive_s, naive_tokens = naive_update_seconds(cli.model, keep.episodes)
    figures.update({"naive_update_tokens_per_s": round(naive_tokens / naive_s, 1),
                    "peak_rss_after_naive_gb": round(peak_rss_gb(), 2)})
    for key in ("naive_update_tokens_per_s", "peak_rss_after_naive_gb"):
        print(f"{key:>42}: {figures[key]}")
    for key, value in rows_vs_shared_prefixes(cli.model, keep.episodes).items():
        figures[key] = value
        print(f"{key:>42}: {value}", flush=True)
    print(json.dumps({k.split(" ")[0]: v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
