"""Decode-step attention on CPU: the same numbers as SDPA, for padded rows and grouped heads."""

import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from grpodx.doctor.decode_attention import cpu_decode_attention, decode_attention


class _Heads(torch.nn.Module):
    num_key_value_groups = 3
    is_causal = True


def test_one_token_attention_matches_sdpa_with_padding_and_gqa():
    torch.manual_seed(0)
    query, key, value = torch.randn(4, 9, 1, 16), torch.randn(4, 3, 20, 16), torch.randn(4, 3, 20, 16)
    mask = torch.ones(4, 1, 1, 20, dtype=torch.bool)
    mask[1, ..., :7] = False  # left padding
    mask[2, ..., 5:9] = False  # a gap in the middle, as the cross-turn cache leaves
    ours, _ = decode_attention(_Heads(), query, key, value, mask, scaling=0.25)
    reference, _ = sdpa_attention_forward(_Heads(), query, key, value, mask, scaling=0.25)
    torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-5)
    ours_no_mask, _ = decode_attention(_Heads(), query, key, value, None, scaling=0.25)
    torch.testing.assert_close(ours_no_mask, sdpa_attention_forward(_Heads(), query, key, value, None, scaling=0.25)[0],
                               atol=1e-5, rtol=1e-5)


def test_sampling_with_decode_attention_gives_the_same_scores(tiny_doctor):
    model = tiny_doctor.model
    model.eval()
    ids = torch.randint(10, 1000, (3, 12))
    mask = torch.ones_like(ids)
    mask[0, :5] = 0
    kwargs = dict(input_ids=ids, attention_mask=mask, max_new_tokens=4, do_sample=False, output_scores=True,
                  return_dict_in_generate=True, pad_token_id=0)
    with torch.no_grad():
        reference = model.generate(**kwargs)
        with cpu_decode_attention(model):
            assert model.config._attn_implementation == "grpodx_cpu_decode"
            ours = model.generate(**kwargs)
    assert model.config._attn_implementation == "sdpa"
    for a, b in zip(ours.scores, reference.scores):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
