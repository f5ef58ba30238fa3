"""The cross-turn KV cache: same next-token distribution as encoding the whole prompt afresh."""

import torch
from transformers import DynamicCache

from grpodx.doctor.turn_cache import TurnCache, common_prefix_length, left_padded


def test_common_prefix_length():
    assert common_prefix_length([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix_length([], [1]) == 0
    assert common_prefix_length([1, 2], [1, 2, 3]) == 2


def test_left_padded_rows_end_where_generation_starts():
    ids, mask = left_padded([[5, 6, 7], [8]], pad=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]


def _first_token_logits(model, ids, mask, cache=None):
    out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=1, do_sample=False,
                         output_scores=True, return_dict_in_generate=True, pad_token_id=0,
                         **({"cache": cache} if cache is not None else {}))
    return out.scores[0], out


def test_second_turn_from_the_cache_matches_a_fresh_prompt(tiny_doctor):
    """Rows of different lengths, one whose new prompt diverges inside the cached part (so cached
    tokens must be masked out), one that leaves the batch: logits equal a fresh encoding."""
    model = tiny_doctor.model
    model.eval()
    torch.manual_seed(0)
    turn1 = [list(range(10, 40)), list(range(50, 62)), list(range(70, 95))]
    turn2 = [turn1[0] + list(range(100, 117)),
             turn1[2][:20] + list(range(200, 204))]  # row 3 diverges at token 20; row 2 has finished
    state = TurnCache()
    ids, mask, cache = state.inputs(["a", "b", "c"], turn1, pad=0)
    assert cache is None
    cache = DynamicCache(config=model.config)
    with torch.no_grad():
        _, out = _first_token_logits(model, ids, mask, cache)
        state.keep(["a", "b", "c"], turn1, ids, mask, cache)
        assert cache.get_seq_length() == ids.shape[1]  # the sampled token was cropped away
        ids2, mask2, cache2 = state.inputs(["a", "c"], turn2, pad=0)
        assert cache2 is cache and state.reused_tokens == 30 + 20
        cached_logits, _ = _first_token_logits(model, ids2, mask2, cache2)
        fresh_ids, fresh_mask = left_padded(turn2, pad=0)
        fresh_logits, _ = _first_token_logits(model, fresh_ids, fresh_mask)
    assert mask2.sum(1).tolist() == [len(p) for p in turn2]
    torch.testing.assert_close(cached_logits, fresh_logits, atol=1e-4, rtol=1e-4)


def test_shared_first_prompt_is_encoded_once_and_matches_a_fresh_prompt(tiny_doctor):
    """G episodes of a case share their first prompt: one encoding, copied to the group's rows."""
    model = tiny_doctor.model
    model.eval()
    a, b = list(range(10, 40)), list(range(50, 62))
    prompts, keys = [a, a, b, a], ["e0", "e1", "e2", "e3"]
    state = TurnCache()
    with torch.no_grad():
        state.share_prefill(tiny_doctor._prefill, keys, prompts, pad=0)
        assert state.prefilled_tokens == 29 + 11
        ids, mask, cache = state.inputs(keys, prompts, pad=0)
        assert ids.shape[0] == 4 and cache.get_seq_length() == ids.shape[1] - 1  # only the last token is new
        assert state.prefilled_tokens + state.reused_tokens == sum(map(len, prompts))
        shared, _ = _first_token_logits(model, ids, mask, cache)
        fresh_ids, fresh_mask = left_padded(prompts, pad=0)
        fresh, _ = _first_token_logits(model, fresh_ids, fresh_mask)
    torch.testing.assert_close(shared, fresh, atol=1e-4, rtol=1e-4)
