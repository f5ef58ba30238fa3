"""Per-episode quantities every report shows: reward, accuracy, partial credit, turns, format."""

from __future__ import annotations

from grpodx.episode import Episode


def episode_values(episode: Episode) -> dict[str, float]:
    """The numbers one scored episode contributes to metrics (failed episodes contribute none)."""
    score = episode.score
    turns = episode.doctor_turns
    return {
        "reward": score.reward,
        "accuracy": float(score.diagnosis_level == "exact"),
        "partial_credit": score.parts.get("diagnosis", 0.0),
        "turns": float(len(turns)),
        "format": sum(t.well_formed for t in turns) / len(turns) if turns else 0.0,
        "no_final": float(episode.final_diagnosis is None),
    }


def scored(episodes: list[Episode]) -> list[Episode]:
    return [e for e in episodes if e.score is not None and not e.failed]
