"""The patient protocol the environment knows."""

from __future__ import annotations

import re

from grpodx.cases import Case
from grpodx.episode import PatientReply


class Patient:
    """Answers the doctor's visible text for a case. Subclasses implement `reply`.

    `reply_batch` gets every active episode of one turn at once so API-backed patients can send
    them concurrently; the default just loops.
    """

    def prepare(self, cases: list[Case]) -> list[Case]:
        """Called once per step before any episode starts; returns the cases to play (one per group).

        The offline patient plays the given cases; an LLM patient in "free" mode may pick the
        disease here (seed behaviour), so all G episodes of a group share it.
        """
        return cases

    def reply(self, case: Case, doctor_text: str, history: list[dict]) -> PatientReply:
        raise NotImplementedError

    def reply_batch(self, cases: list[Case], doctor_texts: list[str],
                    histories: list[list[dict]]) -> list[PatientReply]:
        return [self.reply(c, t, h) for c, t, h in zip(cases, doctor_texts, histories)]


def mentions(text: str, names: tuple[str, ...]) -> bool:
    """True when any of `names` appears in `text` as whole words (case-insensitive)."""
    return any(re.search(rf"(?<![a-z0-9]){re.escape(n.lower())}(?![a-z0-9])", text.lower())
               for n in names if n.strip())


def without_leaks(text: str, case: Case, fallback: str) -> str:
    """Drop every sentence that names the hidden diagnosis or an alias; the patient never tells it."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    kept = [s for s in sentences if not mentions(s, case.diagnosis_names)]
    return " ".join(kept).strip() or fallback
