"""Doctor-turn text rules: hidden `<reason>` blocks and the `Final diagnosis:` line.

techspec: the patient sees only the visible text; the judge sees the reasoning too. The rules here
are the single place that decides what is hidden, so nothing reasoning-like can reach a patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r"<(/?)reason>", re.IGNORECASE)
_FINAL = re.compile(r"final\s+diagnosis\s*[:\-\u2013]\s*(.*)", re.IGNORECASE)
_MAX_DIAGNOSIS_CHARS = 120


@dataclass(frozen=True)
class SplitTurn:
    """A doctor turn split into what the patient may see and what stays hidden.

    `well_formed` is the format rule the judge rewards: exactly one closed, non-nested, non-empty
    `<reason>` block and some visible text beside it.
    """

    visible_text: str
    reasoning: str
    well_formed: bool


def split_reasoning(text: str) -> SplitTurn:
    """Separate hidden reasoning from visible text, failing closed on malformed tags.

    Rules: text inside `<reason>…</reason>` is hidden (nested blocks count as one block); an unclosed
    `<reason>` hides everything after it; a stray `</reason>` hides everything before it.
    """
    visible, hidden, depth, blocks, malformed, pos = [], [], 0, 0, False, 0
    for tag in _TAG.finditer(text):
        chunk = text[pos:tag.start()]
        closing = tag.group(1) == "/"
        if depth == 0 and not closing:
            visible.append(chunk)
            depth, blocks = 1, blocks + 1
        elif depth == 0 and closing:
            hidden.append(chunk)  # reasoning written without an opening tag
            visible.clear()
            malformed = True
        elif closing:
            hidden.append(chunk)
            depth -= 1
        else:
            hidden.append(chunk)
            depth += 1
            malformed = True  # nested block
        pos = tag.end()
    rest = text[pos:]
    (hidden if depth > 0 else visible).append(rest)
    malformed |= depth > 0
    visible_text = re.sub(r"\s+\n|\n\s+", "\n", "".join(visible)).strip()
    reasoning = " ".join(part.strip() for part in hidden if part.strip())
    well_formed = not malformed and blocks == 1 and bool(reasoning) and bool(visible_text)
    return SplitTurn(visible_text, reasoning, well_formed)


def final_diagnoses(visible_text: str) -> list[str]:
    """Every `Final diagnosis:` answer in the visible text, in order (empty answers dropped)."""
    answers = []
    for match in _FINAL.finditer(visible_text):
        answer = match.group(1).strip().strip("*_`\"' .").strip()
        if answer:
            answers.append(answer[:_MAX_DIAGNOSIS_CHARS])
    return answers


def final_diagnosis(visible_text: str) -> str | None:
    """The diagnosis that ends the episode: the first `Final diagnosis:` line, or None."""
    answers = final_diagnoses(visible_text)
    return answers[0] if answers else None


_DIFFERENTIAL = re.compile(r"differential(?:\s+diagnos[ie]s)?\s*[:\-\u2013]\s*(.*)", re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s+(.+)$", re.MULTILINE)


def differential(visible_text: str) -> list[str]:
    """The ranked differential a doctor lists before `Final diagnosis:` (for top-3 accuracy).

    Either a `Differential: A, B, C` line (comma or semicolon separated) or a numbered/bulleted
    list; the final diagnosis itself is not part of it.
    """
    head = _FINAL.split(visible_text, maxsplit=1)[0]
    match = _DIFFERENTIAL.search(head)
    items = re.split(r"[;,]|\bor\b", match.group(1)) if match else _NUMBERED.findall(head)
    return [i.strip().strip("*_`\"' .") for i in items if i.strip().strip("*_`\"' .")][:10]
