"""Per-episode quantities every report shows: reward, accuracy, partial credit, turns, format."""

from __future__ import annotations

from grpodx.episode import Episode
from grpodx.cases.names import is_multi_answer, names_match


def top_k_hit(episode: Episode, k: int = 3) -> bool:
    """Is the hidden diagnosis among the final diagnosis plus the first entries of the differential?

    Each entry counts only when it names one condition (grpodx.judges.diagnosis_credit): a final
    answer that lists several takes the first place and hits nothing.
    """
    if episode.final_diagnosis is None:
        return False
    ranked = [episode.final_diagnosis] + [d for d in episode.differential if d != episode.final_diagnosis]
    return any(names_match(answer, episode.case) for answer in ranked[:k])


def episode_values(episode: Episode) -> dict[str, float]:
    """The numbers one scored episode contributes to metrics (failed episodes contribute none)."""
    score = episode.score
    turns = episode.doctor_turns
    final = episode.final_diagnosis
    return {
        "reward": score.reward,
        # AgentClinic's definition where its moderator judged a free-text answer (OpenAIJudge moderator)
        "accuracy": float(final is not None and (names_match(final, episode.case)
                                                 or score.diagnosis_level == "same_disease")),
        "top3": float(top_k_hit(episode, 3)),
        "partial_credit": score.parts.get("diagnosis", 0.0),
        "turns": float(len(turns)),
        "questions": float(episode.questions_asked),
        "tests": float(episode.tests_requested),
        "format": sum(t.well_formed for t in turns) / len(turns) if turns else 0.0,
        "no_final": float(final is None),
        "multi_answer": float(is_multi_answer(final, episode.case)),
    }


def scored(episodes: list[Episode]) -> list[Episode]:
    return [e for e in episodes if e.score is not None and not e.failed]
