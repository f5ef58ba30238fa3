"""summary.md: the report's front page, linking every other file of the folder."""

from __future__ import annotations

from dataclasses import dataclass, field

from grpodx.report.confusion import ConfusionTable
from grpodx.report.metrics import PolicyMetrics

ROWS = (("top1", "top-1 accuracy"), ("top3", "top-3 accuracy"), ("reward", "reward"),
        ("partial_credit", "diagnosis partial credit"), ("turns", "doctor turns"),
        ("questions", "questions asked"), ("tests", "examinations and tests asked for"),
        ("format", "well-formed turns"), ("no_final", "no final diagnosis"),
        ("multi_answer", "several or negated answers"), ("failed", "failed episodes"))


@dataclass
class ReportContext:
    """What was evaluated, so a report read months later says what it measured."""

    name: str
    model: str
    checkpoint: str | None
    global_step: int
    cases: str
    held_out_cases: int
    seed: int
    max_turns: int
    run_dirs: list[str] = field(default_factory=list)
    coverage: str = ""  # which conditions and organ systems the held-out cases cover


def metrics_table(metrics: dict[str, PolicyMetrics]) -> str:
    names = list(metrics)
    compare = names == ["base", "trained"]
    lines = ["| metric | " + " | ".join(names) + (" | Δ |" if compare else " |"),
             "| --- |" + " ---: |" * (len(names) + compare)]
    for key, label in ROWS:
        values = [getattr(metrics[n], key) for n in names]
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in values]
        delta = [f"{values[1] - values[0]:+.3f}" if key != "failed" else f"{values[1] - values[0]:+d}"] if compare else []
        lines.append(f"| {label} | " + " | ".join(cells + delta) + " |")
    return "\n".join(lines)


def summary_markdown(context: ReportContext, metrics: dict[str, PolicyMetrics],
                     confusions: dict[str, ConfusionTable], files: dict[str, str]) -> str:
    """`files` maps roles (curves, conditions, turns, confusion-NAME-csv, ...) to file names."""
    source = f"`{context.checkpoint}` (step {context.global_step})" if context.checkpoint else "none (base model only)"
    parts = [
        f"# GRPODx evaluation: {context.name}", "",
        f"- doctor: `{context.model}`; checkpoint: {source}",
        f"- {context.held_out_cases} held-out cases from `{context.cases}` (seed {context.seed}), one greedy "
        f"episode each, at most {context.max_turns} doctor turns; every policy sees the same cases",
        f"- held-out coverage: {context.coverage}" if context.coverage else "",
        f"- files: [metrics.json]({files['metrics']}), [transcripts.jsonl]({files['transcripts']}) "
        "(one record per case and policy, hidden reasoning kept apart)", "",
        "## Held-out metrics", "", metrics_table(metrics), "",
        "## Training curves", "",
        f"![reward and accuracy over training]({files['curves']})" if "curves" in files else
        "No TensorBoard events found: pass `--run-dir runs/<name>/version_N`.", "",
        "## Accuracy per condition", "", f"![accuracy per condition]({files['conditions']})", "",
        "## Turns per episode", "", f"![turns histogram]({files['turns']})", "",
        "## Organ-system confusion", "",
        "Rows: the hidden diagnosis's organ system; columns: the organ system of the condition the final "
        "answer names (`unrecognised`: no knowledge-base condition; `none`: no final diagnosis).", ""]
    for name, table in confusions.items():
        parts += [f"### {name} ([CSV]({files[f'confusion-{name}-csv']}), "
                  f"[markdown]({files[f'confusion-{name}-md']}))", "", table.markdown(), ""]
    return "\n".join(parts)


def coverage(cases) -> str:
    """'12 conditions across 9 organ systems: cardiovascular (Angina, ...), ...'"""
    systems: dict[str, set[str]] = {}
    for case in cases:
        systems.setdefault(case.organ_system or "unknown", set()).add(case.hidden_diagnosis)
    named = "; ".join(f"{system} ({', '.join(sorted(names))})" for system, names in sorted(systems.items()))
    return f"{sum(map(len, systems.values()))} conditions across {len(systems)} organ systems: {named}"
