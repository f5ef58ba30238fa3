"""Write the report folder: metrics.json, transcripts.jsonl, confusion tables, plots, summary.md."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from grpodx.cases.knowledge import KnowledgeBase
from grpodx.report import plots
from grpodx.report.confusion import organ_system_confusion
from grpodx.report.held_out import PolicyEpisodes
from grpodx.report.metrics import accuracy_by_condition, policy_metrics
from grpodx.report.summary import ReportContext, summary_markdown
from grpodx.transcript import transcript_record


def write_report(out: Path, results: list[PolicyEpisodes], kb: KnowledgeBase,
                 curves: dict[str, list[tuple[int, float]]], context: ReportContext) -> Path:
    """Every file of the report; returns the path of summary.md."""
    out.mkdir(parents=True, exist_ok=True)
    metrics = {r.name: policy_metrics(r.episodes) for r in results}
    by_condition = {r.name: accuracy_by_condition(r.episodes) for r in results}
    files = {"metrics": "metrics.json", "transcripts": "transcripts.jsonl",
             "conditions": "accuracy_by_condition.png", "turns": "turns.png"}
    (out / files["metrics"]).write_text(json.dumps(
        {"context": asdict(context), "policies": {n: asdict(m) for n, m in metrics.items()},
         "accuracy_by_condition": by_condition}, indent=2) + "\n")
    with open(out / files["transcripts"], "w") as handle:
        for result in results:
            for episode in result.episodes:
                record = {"policy": result.name, **transcript_record(episode, context.global_step)}
                handle.write(json.dumps(record) + "\n")
    confusions = {r.name: organ_system_confusion(r.episodes, kb) for r in results}
    for name, table in confusions.items():
        files[f"confusion-{name}-md"], files[f"confusion-{name}-csv"] = f"confusion-{name}.md", f"confusion-{name}.csv"
        (out / files[f"confusion-{name}-md"]).write_text(table.markdown() + "\n")
        (out / files[f"confusion-{name}-csv"]).write_text(table.csv())
    if plots.training_curves(curves, out / "training_curves.png"):
        files["curves"] = "training_curves.png"
    plots.accuracy_by_condition(by_condition, out / files["conditions"])
    plots.turns_histogram({r.name: [e.num_turns for e in r.episodes] for r in results}, context.max_turns,
                          out / files["turns"])
    summary = out / "summary.md"
    summary.write_text(summary_markdown(context, metrics, confusions, files))
    return summary
