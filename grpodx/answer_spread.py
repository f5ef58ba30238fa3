"""How concentrated a set of final answers is: the narrowing GRPO runs showed onto one common name.

Every GRPO run from a warm start so far ended answering one name to a quarter or more of its
patients (BENCHMARKS.md: Anemia 19 of 64, Viral pharyngitis 17 of 64) while the warm start spread
its answers wider; these figures watch that happen step by step instead of only after scoring.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from grpodx.cases.names import normalise_name


@dataclass(frozen=True)
class AnswerSpread:
    """`top_share`: the most common answer's share of the episodes that gave one (0 when none did);
    `distinct`: how many different answers; `top`: the most common one, normalised."""
    top_share: float
    distinct: int
    top: str | None


def answer_spread(finals: Iterable[str | None]) -> AnswerSpread:
    """Spread of final diagnoses, compared after the name normalisation the judge uses, so
    'Possible GERD.' and 'gerd' are one answer; episodes without a final are left out."""
    names = (normalise_name(f) for f in finals if f is not None)
    counts = Counter(name for name in names if name)
    if not counts:
        return AnswerSpread(0.0, 0, None)
    top, n = counts.most_common(1)[0]
    return AnswerSpread(n / sum(counts.values()), len(counts), top)
