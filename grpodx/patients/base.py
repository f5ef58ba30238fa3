"""The patient protocol the environment knows."""

from __future__ import annotations


from grpodx.cases import Case
from grpodx.episode import PatientReply
from grpodx.patients.questions import DEFAULT_MAX_QUESTIONS


class Patient:
    """Answers the doctor's visible text for a case. Subclasses implement `reply`.

    `reply_batch` gets every active episode of one turn at once so API-backed patients can send
    them concurrently; the default just loops.
    """

    max_questions_per_turn: int = DEFAULT_MAX_QUESTIONS  # requests answered per turn, tests included

    def prepare(self, cases: list[Case]) -> list[Case]:
        """Called once per step before any episode starts; returns the cases to play (one per group).

        The offline patient plays the given cases; an LLM patient in "free" mode may pick the
        disease here (seed behaviour), so all G episodes of a group share it.
        """
        return cases

    def reply(self, case: Case, doctor_text: str, history: list[dict]) -> PatientReply:
        raise NotImplementedError

    def drain_usage(self) -> dict[str, float]:
        """API accounting since the last call, as log metrics (callbacks.ApiUsage); none offline."""
        return {}

    def reply_batch(self, cases: list[Case], doctor_texts: list[str],
                    histories: list[list[dict]]) -> list[PatientReply]:
        return [self.reply(c, t, h) for c, t, h in zip(cases, doctor_texts, histories)]
