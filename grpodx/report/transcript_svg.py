"""Render one transcript record as an SVG picture (for READMEs, papers and issue reports).

`python -m grpodx.report.transcript_svg runs/NAME/version_N/transcripts.jsonl OUT.svg [--index K]`
"""

from __future__ import annotations

import io
import json

from rich.console import Console
from rich.panel import Panel

from grpodx.entry import entry_parser
from grpodx.errors import ConfigError, one_line_errors
from grpodx.transcript import transcript_text


def _record(path: str, index: int) -> dict:
    try:
        with open(path) as handle:
            records = [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError) as error:
        raise ConfigError("transcripts", f"cannot read {path!r} ({type(error).__name__})",
                          "give a transcripts.jsonl written during training") from error
    if not -len(records) <= index < len(records):
        raise ConfigError("--index", f"{path!r} holds {len(records)} records, no index {index}",
                          f"give --index from 0 to {len(records) - 1}")
    return records[index]


def main(argv: list[str] | None = None) -> None:
    parser = entry_parser("python -m grpodx.report.transcript_svg", __doc__, config_file=False)
    parser.add_argument("transcripts", help="a transcripts.jsonl written during training")
    parser.add_argument("out", help="the SVG file to write")
    parser.add_argument("--index", type=int, default=0, help="which record (0 = first)")
    with one_line_errors("python -m grpodx.report.transcript_svg --help"):
        args = parser.parse_args(argv)
        record = _record(args.transcripts, args.index)
    console = Console(record=True, width=100, file=io.StringIO())
    title = f"hidden: {record['hidden_diagnosis']} ({record['icd10']}), step {record['step']}"
    console.print(Panel(transcript_text(record), title=title))
    console.save_svg(args.out, title="GRPODx transcript")


if __name__ == "__main__":
    main()
