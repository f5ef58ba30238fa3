"""The report's numbers: the same per-episode values as val/* (grpodx.episode_metrics), averaged."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from statistics import mean

from grpodx.episode import Episode
from grpodx.episode_metrics import episode_values, scored


@dataclass(frozen=True)
class PolicyMetrics:
    """Means over a policy's scored held-out episodes; `failed` episodes (API errors) are counted
    apart and never averaged in, as in training."""

    episodes: int
    failed: int
    top1: float
    top3: float
    reward: float
    partial_credit: float
    turns: float
    questions: float
    tests: float
    format: float
    no_final: float
    multi_answer: float


def policy_metrics(episodes: list[Episode]) -> PolicyMetrics:
    ok = scored(episodes)
    values = [episode_values(e) for e in ok]

    def avg(key: str) -> float:
        return round(mean(v[key] for v in values), 4) if values else 0.0

    return PolicyMetrics(len(episodes), len(episodes) - len(ok), avg("accuracy"), avg("top3"), avg("reward"),
                         avg("partial_credit"), avg("turns"), avg("questions"), avg("tests"), avg("format"),
                         avg("no_final"),
                         avg("multi_answer"))


def accuracy_by_condition(episodes: list[Episode]) -> dict[str, float]:
    """Top-1 accuracy per hidden diagnosis, sorted by name."""
    hits: dict[str, list[float]] = defaultdict(list)
    for episode in scored(episodes):
        hits[episode.case.hidden_diagnosis].append(episode_values(episode)["accuracy"])
    return {name: mean(values) for name, values in sorted(hits.items())}
