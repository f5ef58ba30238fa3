"""The doctor policy: prompt token ids, batched sampling, and the hidden states the loss needs."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

import torch
import transformers
from torch import Tensor, nn
from transformers import DynamicCache, LogitsProcessorList

from grpodx.doctor.config import DoctorConfig
from grpodx.doctor.decode_attention import cpu_decode_attention
from grpodx.doctor.sampling import InverseCDFSampler
from grpodx.doctor.turn_cache import TurnCache, left_padded

# transformers 5 renamed generate's `past_key_values` to `cache` (the old name warns until 5.40)
_CACHE_KWARG = "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"


class Doctor(nn.Module):
    """A LoRA-wrapped chat model with exactly the operations GRPO needs from it.

    Owned by the LightningModule so Lightning moves, saves and restores its (LoRA) parameters.
    """

    def __init__(self, model, tokenizer, config: DoctorConfig):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        ids = model.generation_config.eos_token_id
        ids = ids if isinstance(ids, list) else [ids]
        self.stop_ids = {i for i in ids + [tokenizer.eos_token_id] if i is not None}

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        """Token ids of the chat prompt, ending where the doctor's reply starts."""
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def turn_cache(self) -> TurnCache | None:
        """A fresh cross-turn KV cache for one rollout, or None where it is switched off or the
        backend samples its own way (Unsloth patches `generate`)."""
        if self.config.reuse_kv_cache and self.config.backend == "transformers":
            return TurnCache()
        return None

    @torch.no_grad()
    def sample(self, prompts: list[list[int]], greedy: bool = False, turn_cache: TurnCache | None = None,
               keys: list | None = None) -> list[list[int]]:
        """One batched `generate` call for every prompt; returns each row's sampled ids up to and
        including its stop token (the exact ids the loss will score). With a `turn_cache` (and each
        row's episode key) only the part of each prompt not cached from the previous turn is encoded."""
        if not prompts:
            return []
        pad = self.tokenizer.pad_token_id
        device = self.model.device
        sampling = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if not greedy:  # sampled by the last logits processor, picked greedily (16x cheaper than multinomial)
            sampling["logits_processor"] = LogitsProcessorList([InverseCDFSampler(self.config.temperature, self.config.top_p)])
        with self._inference_mode(), self._merged_adapter(), self._decode_attention():
            if turn_cache is not None:
                turn_cache.share_prefill(self._prefill, keys, prompts, pad)
                input_ids, attention, cache = turn_cache.inputs(keys, prompts, pad)
                sampling[_CACHE_KWARG] = cache if cache is not None else DynamicCache(config=self.model.config)
            else:
                input_ids, attention = left_padded(prompts, pad)
            output = self.model.generate(
                input_ids=input_ids.to(device), attention_mask=attention.to(device),
                max_new_tokens=self.config.max_new_tokens, pad_token_id=pad,
                eos_token_id=sorted(self.stop_ids), **sampling)
        width = input_ids.shape[1]
        if turn_cache is not None:
            turn_cache.keep(keys, prompts, input_ids, attention, sampling[_CACHE_KWARG])
        return [self._until_stop(row.tolist()) for row in output[:, width:].cpu()]

    def _prefill(self, input_ids: Tensor, attention_mask: Tensor):
        """Encode left-padded prompts into a fresh KV cache (positions count real tokens only)."""
        cache = DynamicCache(config=self.model.config)
        device = self.model.device
        positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        self.model(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device),
                   position_ids=positions.to(device), use_cache=True, logits_to_keep=1, **{_CACHE_KWARG: cache})
        return cache

    def _until_stop(self, ids: list[int]) -> list[int]:
        for i, token in enumerate(ids):
            if token in self.stop_ids:
                return ids[: i + 1]
        return ids

    @contextmanager
    def _merged_adapter(self):
        """Fold the LoRA weights into the base for generation (1.5x faster decoding on CPU), then put
        back the exact original base weights: unmerging by subtraction in bf16 would let rounding
        errors accumulate over thousands of steps. The base is frozen, so one snapshot serves all."""
        if not self.config.merge_for_rollout or self.config.backend != "transformers":
            yield
            return
        from peft.tuners.lora import LoraLayer

        layers = [m for m in self.model.modules() if isinstance(m, LoraLayer)]
        if not layers or layers[0].disable_adapters:  # the reference policy: nothing to fold in
            yield
            return
        if not hasattr(self, "_base_snapshot"):
            self._base_snapshot = [m.get_base_layer().weight.detach().clone() for m in layers]
        # with the adapter folded in, each LoRA wrapper only adds Python overhead (11 % of a decode
        # step at 16 rows): its plain base layer stands in for it while sampling
        slots = [(parent, name, child) for parent in self.model.modules()
                 for name, child in parent.named_children() if isinstance(child, LoraLayer)]
        with torch.no_grad():
            self.model.merge_adapter()
            for parent, name, child in slots:
                setattr(parent, name, child.get_base_layer())
            try:
                yield
            finally:
                for parent, name, child in slots:
                    setattr(parent, name, child)
                self.model.unmerge_adapter()
                for layer, original in zip(layers, self._base_snapshot):
                    layer.get_base_layer().weight.copy_(original)

    def _decode_attention(self):
        if self.config.backend != "transformers":
            return nullcontext()
        return cpu_decode_attention(self.model)

    @contextmanager
    def _inference_mode(self):
        was_training = self.model.training
        self.model.eval()
        if self.config.backend == "unsloth":
            from unsloth import FastLanguageModel

            FastLanguageModel.for_inference(self.model)
        try:
            yield
        finally:
            if self.config.backend == "unsloth":
                from unsloth import FastLanguageModel

                FastLanguageModel.for_training(self.model)
            self.model.train(was_training)

    def hidden_states(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """Last-layer hidden states [B, T, d] from the decoder body, without the vocabulary head."""
        base = self.model.get_base_model()
        body = base.get_decoder() if hasattr(base, "get_decoder") else base.model
        return body(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state

    @property
    def lm_head_weight(self) -> Tensor:
        return self.model.get_base_model().get_output_embeddings().weight

    @contextmanager
    def reference_policy(self):
        """The reference policy is the same model with the adapter switched off: no second copy."""
        with self.model.disable_adapter():
            yield
