"""Render one transcript record as an SVG picture (for READMEs, papers and issue reports).

`python -m grpodx.report.transcript_svg runs/NAME/version_N/transcripts.jsonl OUT.svg [--index K]`
"""

from __future__ import annotations

import argparse
import io
import json

from rich.console import Console
from rich.panel import Panel
from rich.text import Text


def transcript_text(record: dict) -> Text:
    """Patient and doctor turns, hidden reasoning dimmed and labelled, the judge's breakdown last."""
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
    parts = ", ".join(f"{k} {v:.2f}" for k, v in (record.get("breakdown") or {}).items())
    text.append(f"\nfinal diagnosis: {record.get('final_diagnosis')}  |  reward {record.get('reward')}"
                f" ({record.get('diagnosis_level')})  |  {parts}", style="bold")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("transcripts", help="a transcripts.jsonl written during training")
    parser.add_argument("out", help="the SVG file to write")
    parser.add_argument("--index", type=int, default=0, help="which record (0 = first)")
    args = parser.parse_args(argv)
    with open(args.transcripts) as handle:
        record = [json.loads(line) for line in handle if line.strip()][args.index]
    console = Console(record=True, width=100, file=io.StringIO())
    title = f"hidden: {record['hidden_diagnosis']} ({record['icd10']}), step {record['step']}"
    console.print(Panel(transcript_text(record), title=title))
    console.save_svg(args.out, title="GRPODx transcript")


if __name__ == "__main__":
    main()
