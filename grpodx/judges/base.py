"""The judge protocol the environment knows."""

from __future__ import annotations

from grpodx.episode import Episode, Score
from grpodx.errors import ConfigError


class Judge:
    """Scores finished episodes. Subclasses implement `score`; `score_batch` may run concurrently."""

    def score(self, episode: Episode) -> Score:
        raise NotImplementedError

    def score_batch(self, episodes: list[Episode]) -> list[Score]:
        return [self.score(e) for e in episodes]

    def drain_usage(self) -> dict[str, float]:
        """API accounting since the last call, as log metrics (callbacks.ApiUsage); none offline."""
        return {}


def weighted_reward(parts: dict[str, float], weights: dict[str, float]) -> float:
    """Combine parts in [0, 1] by config weights into a reward in [0, 1]."""
    total = sum(weights.values())
    return sum(weights[name] * parts.get(name, 0.0) for name in weights) / total


def validate_weights(weights: dict[str, float], allowed: tuple[str, ...], field: str) -> None:
    """Reject unknown parts, negative weights and all-zero weights at start-up."""
    unknown = set(weights) - set(allowed)
    if unknown:
        raise ConfigError(field, f"unknown part(s) {sorted(unknown)}", f"use only {list(allowed)}")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ConfigError(field, "weights must be >= 0 and not all zero", "give each part a weight >= 0")
