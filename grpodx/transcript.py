"""An episode as a transcript record: what users read, with hidden reasoning marked."""

from __future__ import annotations

from rich.text import Text

from grpodx.episode import Episode
from grpodx.judges.diagnosis_credit import LEVEL_WORDS


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


def _score_line(record: dict) -> str:
    if record["reward"] is None:
        return f"no reward ({record['error'] or 'the episode failed'})"
    level = record["diagnosis_level"]
    words = LEVEL_WORDS.get(level, level)
    parts = ", ".join(f"{name} {value:.2f}" for name, value in (record["breakdown"] or {}).items())
    return f"reward {record['reward']:.2f} (diagnosis: {words}; parts: {parts})"


def transcript_text(record: dict) -> Text:
    """Patient and doctor turns, hidden reasoning dimmed and labelled, the judge's score last; for
    the console (styles drop out when it is not a terminal) and the SVG renderer."""
    text = Text()
    for turn in record["turns"]:
        if turn["role"] == "doctor":
            if turn.get("reasoning"):
                text.append("  [hidden reasoning] ", style="dim italic")
                text.append(turn["reasoning"] + "\n", style="dim italic")
            text.append("Doctor: ", style="bold cyan")
            text.append((turn["text"] or "(no visible text)") + "\n")
        else:
            text.append("Patient: ", style="bold green")
            text.append(turn["text"] + "\n")
    text.append(f"\nfinal diagnosis: {record['final_diagnosis'] or '-'}  |  {_score_line(record)}", style="bold")
    return text


def transcript_markdown(record: dict) -> str:
    """Markdown for TensorBoard's text tab; hidden reasoning is shown struck out and labelled."""
    lines = [f"**hidden diagnosis:** {record['hidden_diagnosis']} ({record['icd10']}) | "
             f"**final:** {record['final_diagnosis']} | **{_score_line(record)}**", ""]
    for turn in record["turns"]:
        if turn["role"] == "doctor":
            if turn.get("reasoning"):
                lines.append(f"> *[hidden reasoning]* ~~{turn['reasoning']}~~  ")
            lines.append(f"**Doctor:** {turn['text']}  ")
        else:
            lines.append(f"**Patient:** {turn['text']}  ")
    return "\n".join(lines)
