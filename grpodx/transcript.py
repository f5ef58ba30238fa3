"""An episode as a transcript record: what users read, with hidden reasoning marked."""

from __future__ import annotations

from grpodx.episode import Episode


def transcript_record(episode: Episode, step: int) -> dict:
    """A JSON-ready record: the hidden disease, every turn (reasoning kept apart) and the score."""
    case, score = episode.case, episode.score
    return {
        "step": step, "case_id": case.case_id, "group": episode.group,
        "hidden_diagnosis": case.hidden_diagnosis, "icd10": case.icd10, "organ_system": case.organ_system,
        "final_diagnosis": episode.final_diagnosis, "differential": episode.differential, "failed": episode.failed,
        "reward": score.reward if score else None, "diagnosis_level": score.diagnosis_level if score else None,
        "breakdown": score.parts if score else None, "rationale": score.rationale if score else "",
        "error": score.error if score else "",
        "turns": episode.transcript(),
    }


def transcript_markdown(record: dict) -> str:
    """Markdown for TensorBoard's text tab; hidden reasoning is shown struck out and labelled."""
    lines = [f"**hidden diagnosis:** {record['hidden_diagnosis']} ({record['icd10']}) | "
             f"**final:** {record['final_diagnosis']} | **reward:** {record['reward']} "
             f"({record['diagnosis_level']}) | **breakdown:** {record['breakdown']}", ""]
    for turn in record["turns"]:
        if turn["role"] == "doctor":
            if turn.get("reasoning"):
                lines.append(f"> *[hidden reasoning]* ~~{turn['reasoning']}~~  ")
            lines.append(f"**Doctor:** {turn['text']}  ")
        else:
            lines.append(f"**Patient:** {turn['text']}  ")
    return "\n".join(lines)
