"""API accounting: tokens, latency and cost of every chat call, summed per training step."""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class CallRecord:
    """One finished chat call (after the SDK's retries); `role` is "patient" or "judge"."""

    role: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cost_usd: float
    failed: bool = False


class UsageLedger:
    """Collects CallRecords until `drain`, which returns the step's totals as log metrics.

    callbacks.ApiUsage merges every party's `drain_usage()` into one dict, so the patient and the judge
    record into one shared ledger: whichever drains first reports the step (latency p50 and cost
    over all calls), and the other finds it empty and returns {}. Calls made during validation are
    reported with the next training step.
    """

    def __init__(self):
        self._records: list[CallRecord] = []
        self._events: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.watchers: list = []  # called with the number of calls in flight (e.g. the progress bar)

    def change_in_flight(self, delta: int) -> None:
        """A call started (+1) or ended (-1); watchers see the new count."""
        with self._lock:
            self.in_flight += delta
            count = self.in_flight
        for watch in list(self.watchers):
            watch(count)

    def record(self, call: CallRecord) -> None:
        with self._lock:
            self._records.append(call)

    def count(self, event: str) -> None:
        """Count a named event of the step, e.g. a judge reply read by the seed's number rule."""
        with self._lock:
            self._events[event] += 1

    def drain(self) -> dict[str, float]:
        with self._lock:
            records, self._records = self._records, []
            events, self._events = self._events, Counter()
        if not records:
            return {f"api/{name}": float(n) for name, n in events.items()}

        def tokens(role: str) -> float:
            return float(sum(r.prompt_tokens + r.completion_tokens for r in records if r.role == role))

        return {
            "api/patient_tokens": tokens("patient"),
            "api/judge_tokens": tokens("judge"),
            "api/latency_p50": statistics.median(r.latency_s for r in records),
            "api/cost_usd": sum(r.cost_usd for r in records),
            "api/calls": float(len(records)),
            "api/failed_calls": float(sum(r.failed for r in records)),
            **{f"api/{name}": float(n) for name, n in events.items()},
        }


_SHARED = UsageLedger()


def shared_ledger() -> UsageLedger:
    """The process's ledger, shared by every API patient and judge (see UsageLedger)."""
    return _SHARED
