"""The doctor policy: prompt token ids, batched sampling, and the hidden states the loss needs."""

from __future__ import annotations

import logging
import math
from contextlib import contextmanager

import torch
import transformers
from torch import Tensor, nn
from transformers import DynamicCache, GenerationConfig, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

from grpodx.doctor.config import DoctorConfig
from grpodx.doctor.decode_attention import cpu_decode_attention
from grpodx.doctor.sampling import InverseCDFSampler
from grpodx.doctor.turn_cache import TurnCache, left_padded

# transformers 5 renamed generate's `past_key_values` to `cache` (the old name warns until 5.40)
_CACHE_KWARG = "cache" if int(transformers.__version__.split(".")[0]) >= 5 else "past_key_values"
log = logging.getLogger(__name__)

# generation_config.json fields that change what `generate` draws (or how), with their neutral
# value. The loss can reproduce none of them, so the doctor samples without them: temperature and
# top_p come from DoctorConfig and are applied by InverseCDFSampler alone.
SAMPLING_FIELDS = {
    "temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": None, "typical_p": 1.0, "top_h": None,
    "epsilon_cutoff": 0.0, "eta_cutoff": 0.0, "repetition_penalty": 1.0, "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0, "encoder_no_repeat_ngram_size": 0, "bad_words_ids": None, "sequence_bias": None,
    "min_length": 0, "min_new_tokens": 0, "forced_bos_token_id": None, "forced_eos_token_id": None,
    "suppress_tokens": None, "begin_suppress_tokens": None, "exponential_decay_length_penalty": None,
    "guidance_scale": 1.0, "renormalize_logits": False, "remove_invalid_values": False,
    "watermarking_config": None, "num_beams": 1, "penalty_alpha": None, "dola_layers": None, "stop_strings": None,
}


def ignored_generation_fields(generation_config) -> dict:
    """The model's generation settings that sampling would apply but the loss cannot score (set
    values only: transformers 4 gives every config top_k=50 whether or not the model asks for it)."""
    chosen = generation_config.to_diff_dict()
    return {name: chosen[name] for name, neutral in SAMPLING_FIELDS.items()
            if chosen.get(name) not in (None, neutral, [], {})}


def scoreable_generation_config(source, stop_ids: set[int], pad_id: int | None,
                                max_new_tokens: int) -> GenerationConfig:
    """A generation config with the model's special tokens and nothing that changes the draw."""
    return GenerationConfig(bos_token_id=source.bos_token_id, eos_token_id=sorted(stop_ids), pad_token_id=pad_id,
                            max_new_tokens=max_new_tokens, do_sample=False)


class _WhenAsked(StoppingCriteria):
    def __init__(self, stop):
        self.stop = stop

    def __call__(self, input_ids: Tensor, scores, **kwargs) -> Tensor:
        return torch.full((input_ids.shape[0],), bool(self.stop()), dtype=torch.bool, device=input_ids.device)


class Doctor(nn.Module):
    """A LoRA-wrapped chat model with exactly the operations GRPO needs from it.

    Owned by the LightningModule so Lightning moves, saves and restores its (LoRA) parameters.
    """

    def __init__(self, model, tokenizer, config: DoctorConfig):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        # a starting adapter's weights as loaded (KL's reference, see reference_policy); kept out of
        # the state_dict: a resumed run reads them from the same adapter folder again
        self._start_lora = ({n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
                            if config.adapter else None)
        ids = model.generation_config.eos_token_id
        ids = ids if isinstance(ids, list) else [ids]
        self.stop_ids = {i for i in ids + [tokenizer.eos_token_id] if i is not None}
        self._use_scoreable_generation_config()

    def _use_scoreable_generation_config(self) -> None:
        """Sample with exactly what the loss reproduces (softmax(logits / T), top_p aside).

        The GRPO ratio and KL score each sampled token under softmax(logits / T); a repetition
        penalty or top-k from the model's generation_config.json would draw tokens from another
        distribution (issue 11: a 1.05 penalty put SmolLM2's off by 0.055 nats/token). `generate` fills every
        unset field from the model's own config, so that config is replaced, not just overridden.
        """
        base = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        ignored = ignored_generation_fields(base.generation_config)
        if ignored:
            log.warning("doctor sampling ignores the model's generation_config %s: the GRPO loss cannot score "
                        "tokens drawn with them (set temperature/top_p in model.doctor instead)",
                        ", ".join(f"{k}={v}" for k, v in ignored.items()))
        if self.config.top_p < 1:
            log.warning("model.doctor.top_p=%s: rollouts sample from the nucleus but the loss scores the full "
                        "tempered distribution (as TRL does), so scored log-probs sit up to %.3f nats below "
                        "sampled ones", self.config.top_p, -math.log(self.config.top_p))
        self.generation_config = scoreable_generation_config(
            base.generation_config, self.stop_ids, self.tokenizer.pad_token_id, self.config.max_new_tokens)
        base.generation_config = self.generation_config

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        """Token ids of the chat prompt, ending where the doctor's reply starts."""
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def turn_cache(self) -> TurnCache | None:
        """A fresh cross-turn KV cache for one rollout (None where it is switched off)."""
        return TurnCache() if self.config.reuse_kv_cache else None

    @torch.no_grad()
    def sample(self, prompts: list[list[int]], greedy: bool = False, turn_cache: TurnCache | None = None,
               keys: list | None = None, stop=None) -> list[list[int]]:
        """One batched `generate` call for every prompt; returns each row's sampled ids up to and
        including its stop token (the exact ids the loss will score). With a `turn_cache` (and each
        row's episode key) only the part of each prompt not cached from the previous turn is encoded."""
        if not prompts:
            return []
        pad = self.tokenizer.pad_token_id
        device = self.model.device
        sampling = {}
        self.generation_config.max_new_tokens = self.config.max_new_tokens  # config stays the one source
        if stop is not None:  # a preemption ends every row's generation at the next token
            sampling["stopping_criteria"] = StoppingCriteriaList([_WhenAsked(stop)])
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
                generation_config=self.generation_config, **sampling)
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
        if not self.config.merge_for_rollout:
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
        return cpu_decode_attention(self.model)

    @contextmanager
    def _inference_mode(self):
        was_training = self.model.training
        self.model.eval()
        try:
            yield
        finally:
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
    def adapter_off(self):
        """The base model: the same model with the adapter switched off (no second copy)."""
        with self.model.disable_adapter():
            yield

    @contextmanager
    def reference_policy(self):
        """KL's reference: the policy this run started from. From a starting adapter (a warm start)
        that is its weights as loaded, swapped in for the duration; from a fresh LoRA (B = 0) it is
        exactly the base model, so the adapter is just switched off. KL to the base after a warm
        start would pull the doctor back towards the untrained model's babble."""
        if self._start_lora is None:
            with self.adapter_off():
                yield
            return
        params = {n: p for n, p in self.model.named_parameters() if n in self._start_lora}
        current = {n: p.detach().clone() for n, p in params.items()}
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(self._start_lora[n])
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in params.items():
                    p.copy_(current[n])
