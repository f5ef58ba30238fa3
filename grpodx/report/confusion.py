"""Which organ system the doctor answered for each hidden organ system.

A wrong answer in the right organ system is a near miss (the judge's partial credit); this table
shows where the misses land. Answers map to organ systems through the knowledge base.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass

from grpodx.episode import Episode
from grpodx.cases.names import named_condition
from grpodx.cases.knowledge import KnowledgeBase

NO_ANSWER = "none"
UNRECOGNISED = "unrecognised"


def answered_organ_system(answer: str | None, kb: KnowledgeBase) -> str:
    """The organ system of the condition an answer names; `none` without an answer,
    `unrecognised` when it names no knowledge-base condition."""
    if answer is None:
        return NO_ANSWER
    condition = named_condition(answer, kb)
    return condition.organ_system if condition is not None else UNRECOGNISED


@dataclass(frozen=True)
class ConfusionTable:
    """Counts of (hidden organ system, answered organ system); each row sums to its cases."""

    rows: list[str]
    columns: list[str]
    counts: dict[tuple[str, str], int]

    def count(self, row: str, column: str) -> int:
        return self.counts.get((row, column), 0)

    def row_total(self, row: str) -> int:
        return sum(self.count(row, c) for c in self.columns)

    def markdown(self) -> str:
        lines = ["| hidden \\ answered | " + " | ".join(self.columns) + " | total |",
                 "| --- |" + " ---: |" * (len(self.columns) + 1)]
        for row in self.rows:
            cells = [str(self.count(row, c)) if self.count(row, c) else "·" for c in self.columns]
            lines.append(f"| {row} | " + " | ".join(cells) + f" | {self.row_total(row)} |")
        return "\n".join(lines)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["hidden_organ_system", *self.columns])
        for row in self.rows:
            writer.writerow([row, *(self.count(row, c) for c in self.columns)])
        return out.getvalue()


def organ_system_confusion(episodes: list[Episode], kb: KnowledgeBase) -> ConfusionTable:
    """One count per episode; organ-system columns follow the rows' order, then the extra ones,
    then `unrecognised` and `none`."""
    pairs = Counter((e.case.organ_system, answered_organ_system(e.final_diagnosis, kb)) for e in episodes)
    rows = sorted({row for row, _ in pairs})
    answered = sorted({col for _, col in pairs} - {NO_ANSWER, UNRECOGNISED} - set(rows))
    return ConfusionTable(rows, rows + answered + [UNRECOGNISED, NO_ANSWER], dict(pairs))
