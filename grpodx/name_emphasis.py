"""Which tokens of a demonstrated turn name a condition, and how much more they weigh in the warm start.

Why: a demonstration turn is ~270 tokens, of which the few naming a condition (the leading
hypotheses, the differential, the final diagnosis) carry the diagnostic decision; the rest are
question wordings drawn at random among phrasings. At uniform weight the cross-entropy is dominated
by those wordings, and a 135M doctor warm-started on 600 demonstrations learned the marginal
("Most likely URTI" whatever the complaint) rather than the conditional. Weighing the name tokens
up puts the gradient where the decision is. Pure functions: no model, no Lightning.
"""

from __future__ import annotations

from grpodx.cases.names import whole_word


def name_spans(text: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    """Character spans of `names` in `text` as whole words (case-insensitive), longest name first,
    never overlapping (so 'Acute pulmonary edema' is one span, not also 'edema'), sorted by start."""
    lowered, taken = text.lower(), []
    for name in sorted({n.strip().lower() for n in names if n.strip()}, key=len, reverse=True):
        for match in whole_word(name).finditer(lowered):
            start, end = match.span()
            if all(end <= s or start >= e for s, e in taken):
                taken.append((start, end))
    return sorted(taken)


def token_weights(offsets: list[tuple[int, int]], spans: list[tuple[int, int]], weight: float) -> list[float]:
    """`weight` for each token whose characters (`offsets`, as a fast tokenizer's offset mapping)
    overlap a name span, 1.0 for every other token."""
    return [weight if any(start < e and end > s for s, e in spans) else 1.0 for start, end in offsets]
