"""What every LightningModule that trains the doctor shares: the LoRA doctor, greedy held-out
episodes for validation, LoRA-only checkpoints, and the doctor-token log-prob path.

GRPO (grpodx.module.DiagnosisGRPO) and the supervised warm start (grpodx.warm_start.WarmStart) differ
only in their training step, so both validate on the same held-out episodes (val/* curves compare)
and write checkpoints and adapters that load into either.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import asdict, is_dataclass

import lightning as L
import torch

from grpodx import grpo
from grpodx.cases import CaseBatch
from grpodx.doctor import Doctor, DoctorConfig, load_doctor
from grpodx.environment import DiagnosisEnvironment
from grpodx.errors import ConfigError
from grpodx.judges import Judge, OfflineJudge
from grpodx.lora_keys import check_lora_state
from grpodx.patients import OfflinePatient, Patient
from grpodx.prefix_sharing import PackedBatch, chains, collate_chains, pack_chains
from grpodx.sequences import MicroBatch, Row, collate, pack


class DoctorModule(L.LightningModule):
    """The doctor (`self.policy`, loaded lazily), the environment it is validated in, and checkpoints
    that hold only its trainable (LoRA) weights."""

    def __init__(self, doctor: DoctorConfig | None, patient: Patient | None, judge: Judge | None, max_turns: int):
        super().__init__()
        if max_turns < 1:
            raise ConfigError("model.init_args.max_turns", f"must be >= 1, got {max_turns}", "use e.g. 5")
        self.doctor_config = doctor or DoctorConfig()
        self.doctor_config.validate()
        self.environment = DiagnosisEnvironment(patient or OfflinePatient(), judge or OfflineJudge(), max_turns)
        self.strict_loading = False  # checkpoints hold only the LoRA weights
        self.policy: Doctor | None = None

    def configure_model(self) -> None:
        """Load weights lazily, after every config value has been validated."""
        if self.policy is None:
            self.policy = load_doctor(self.doctor_config)
            self.policy.train()  # from_pretrained returns eval mode; sampling switches to eval itself

    def token_log_probs(self, mb: MicroBatch, chunk: int, temperature: float = 1.0) -> torch.Tensor:
        """log p(target) at each scored doctor position of a micro-batch: the decoder's hidden
        states, then the vocabulary head only where a doctor token is predicted (at temperature T:
        the distribution the tokens were sampled from)."""
        hidden = self.policy.hidden_states(mb.input_ids.to(self.device), mb.attention_mask.to(self.device))
        picked = hidden[mb.rows.to(self.device), mb.positions.to(self.device)]
        return grpo.selective_log_probs(picked, self.policy.lm_head_weight, mb.targets.to(self.device), chunk,
                                        temperature)

    def packed_log_probs(self, batch: PackedBatch, chunk: int, temperature: float = 1.0) -> torch.Tensor:
        """token_log_probs for chains packed with their own positions and attention mask."""
        base = self.policy.model.get_base_model()
        body = base.get_decoder() if hasattr(base, "get_decoder") else base.model
        dtype = next(body.parameters()).dtype
        hidden = body(input_ids=batch.input_ids.to(self.device), position_ids=batch.position_ids.to(self.device),
                      attention_mask=batch.attention_bias(dtype).to(self.device), use_cache=False).last_hidden_state
        picked = hidden[batch.rows.to(self.device), batch.positions.to(self.device)]
        return grpo.selective_log_probs(picked, self.policy.lm_head_weight, batch.targets.to(self.device), chunk,
                                        temperature)

    def batch_log_probs(self, batch: MicroBatch | PackedBatch, chunk: int, temperature: float = 1.0) -> torch.Tensor:
        if isinstance(batch, PackedBatch):
            return self.packed_log_probs(batch, chunk, temperature)
        return self.token_log_probs(batch, chunk, temperature)

    def shares_prefixes(self, wanted: bool) -> bool:
        """Prefix sharing needs the transformers decoder to take a 4-D mask; Unsloth's patched
        kernels are not known to, so its backend keeps one row per turn."""
        return wanted and self.doctor_config.backend == "transformers"

    def micro_batches(self, rows: list[Row], max_tokens: int, share_prefixes: bool) -> Iterator[MicroBatch | PackedBatch]:
        """The rows as micro-batches, each collated only when drawn: one packed sequence per episode
        (grpodx.prefix_sharing: same contexts, same log-probs, ~2.2x fewer tokens on 5-turn
        episodes) or one row per turn."""
        pad = self.policy.tokenizer.pad_token_id
        if self.shares_prefixes(share_prefixes):
            return (collate_chains(group, pad) for group in pack_chains(chains(rows), max_tokens))
        return (collate(group, pad) for group in pack(rows, max_tokens))

    # ---- several processes ----------------------------------------------------------------------
    # One convention for both stages: each rank divides its loss by the normaliser of the WHOLE
    # step (summed over ranks by `sum_across_ranks`), so gradients are summed, never averaged, and
    # the update is the one a single process would make on every rank's data.
    @property
    def world_size(self) -> int:
        return self.trainer.world_size if self._trainer is not None else 1

    def local_gradients(self):
        """Under DDP, keep the reducer out of micro-batch backwards (their number differs per rank);
        gradients are summed once per update by `sum_gradients_across_ranks`."""
        wrapped = getattr(self.trainer.strategy, "model", None) if self._trainer is not None else None
        return wrapped.no_sync() if hasattr(wrapped, "no_sync") and self.world_size > 1 else nullcontext()

    def sum_gradients_across_ranks(self) -> None:
        if self.world_size < 2:
            return
        for param in (p for p in self.parameters() if p.requires_grad):
            if param.grad is None:
                param.grad = torch.zeros_like(param)
            torch.distributed.all_reduce(param.grad, op=torch.distributed.ReduceOp.SUM)

    def sum_across_ranks(self, values: torch.Tensor) -> torch.Tensor:
        """Counts and sums over every rank (returned on the CPU)."""
        if self.world_size < 2:
            return values.cpu()
        values = values.to(self.device)
        torch.distributed.all_reduce(values, op=torch.distributed.ReduceOp.SUM)
        return values.cpu()

    # ---- validation / test: greedy held-out episodes ----------------------------------------------
    def validation_step(self, batch: CaseBatch, batch_idx: int) -> dict:
        episodes, _ = self.environment.run(self.policy, batch.cases, group_size=1, greedy=True)
        return {"episodes": episodes}

    def test_step(self, batch: CaseBatch, batch_idx: int) -> dict:
        return self.validation_step(batch, batch_idx)

    # ---- checkpoints ----------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """Keep only trainable (LoRA) weights: the frozen base is reloaded from its source."""
        trainable = {n for n, p in self.named_parameters() if p.requires_grad}
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in trainable}
        # plain dicts, so the checkpoint loads with torch.load(weights_only=True)
        checkpoint["hyper_parameters"] = {k: asdict(v) if is_dataclass(v) else v
                                          for k, v in checkpoint.get("hyper_parameters", {}).items()}
        # sampling RNG, so steps after a resume sample exactly what an uninterrupted run would
        checkpoint["rng_states"] = {"torch": torch.get_rng_state(), "python": random.getstate()}
        if torch.cuda.is_available():
            checkpoint["rng_states"]["cuda"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Check the LoRA weights fit before they load (`strict_loading` is off: only LoRA is saved)."""
        self.configure_model()  # a no-op under the Trainer; load_from_checkpoint needs the weights here
        check_lora_state(checkpoint["state_dict"], {n: p.shape for n, p in self.named_parameters() if p.requires_grad})
        states = checkpoint.get("rng_states")
        if states:
            torch.set_rng_state(states["torch"])
            random.setstate(states["python"])
            if "cuda" in states and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(states["cuda"])
