"""Greedy episodes of the fixed held-out cases, for the base model or the trained adapter."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import lightning as L

from grpodx.cases import Case
from grpodx.episode import Episode


@dataclass
class PolicyEpisodes:
    """One policy's episodes, one per held-out case, in case order (`base` or `trained`)."""

    name: str
    episodes: list[Episode]


def run_held_out(module, cases: list[Case], batch_size: int, seed: int, name: str, base: bool,
                 on_batch=None) -> PolicyEpisodes:
    """What validation runs (one greedy episode per case), with the adapter off for the base.

    The seed is reset first so both policies meet the same patients even when a patient samples
    (an LLM patient); greedy decoding makes the doctor's side deterministic.
    """
    L.seed_everything(seed, verbose=False)
    episodes: list[Episode] = []
    with module.policy.adapter_off() if base else nullcontext():
        for start in range(0, len(cases), batch_size):
            batch, _ = module.environment.run(module.policy, cases[start:start + batch_size], group_size=1,
                                              greedy=True)
            episodes += batch
            if on_batch:
                on_batch(len(batch))
    return PolicyEpisodes(name, episodes)
