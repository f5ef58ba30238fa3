"""The inverse-CDF sampler draws from the same distribution `multinomial` would."""

import math

import torch

from grpodx.doctor.sampling import InverseCDFSampler, inverse_cdf_draw, nucleus


def test_draws_follow_the_probabilities_and_never_pick_zero_mass():
    torch.manual_seed(0)
    probs = torch.tensor([[0.5, 0.0, 0.2, 0.3, 0.0]]).repeat(20000, 1)
    counts = torch.bincount(inverse_cdf_draw(probs), minlength=5).double() / 20000
    assert counts[1] == 0 and counts[4] == 0
    torch.testing.assert_close(counts, probs[0].double(), atol=0.015, rtol=0)


def test_nucleus_keeps_the_smallest_set_reaching_top_p():
    probs = torch.tensor([[0.1, 0.5, 0.25, 0.15]])
    assert nucleus(probs, 0.7).tolist() == [[0.0, 0.5, 0.25, 0.0]]
    assert nucleus(probs, 0.3).tolist() == [[0.0, 0.5, 0.0, 0.0]]  # always at least the top token
    assert torch.equal(nucleus(probs, 1.0), probs)


def test_processor_leaves_one_finite_score_per_row_drawn_at_temperature():
    torch.manual_seed(1)
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).repeat(30000, 1)
    out = InverseCDFSampler(temperature=2.0)(None, logits)
    assert (torch.isfinite(out).sum(-1) == 1).all()
    picked = out.argmax(-1)
    tempered = torch.softmax(logits[0] / 2.0, -1).double()
    torch.testing.assert_close(torch.bincount(picked, minlength=3).double() / 30000, tempered, atol=0.015, rtol=0)
    assert math.isclose(float(tempered[0]), 0.7 ** 0.5 / sum(p ** 0.5 for p in (0.7, 0.2, 0.1)), rel_tol=1e-6)
