"""The diagnosis environment: runs G episodes of each case, turn by turn, in batches."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from grpodx.cases import Case
from grpodx.dialogue import differential, final_diagnosis, split_reasoning
from grpodx.doctor.prompting import doctor_messages
from grpodx.episode import DoctorTurn, Episode
from grpodx.judges.base import Judge
from grpodx.patients.base import Patient


@dataclass
class RolloutStats:
    """Where a rollout spent its time, and how many doctor tokens it sampled."""

    doctor_seconds: float = 0.0
    patient_seconds: float = 0.0
    judge_seconds: float = 0.0
    doctor_tokens: int = 0
    prompt_tokens_encoded: int = 0  # prompt tokens the doctor ran a forward over (prefill)
    prompt_tokens_reused: int = 0  # prompt tokens served from the cross-turn KV cache instead
    turn_batch_sizes: list[int] = field(default_factory=list)

    @property
    def doctor_tokens_per_s(self) -> float:
        return self.doctor_tokens / self.doctor_seconds if self.doctor_seconds else 0.0


def _visible_history(episode: Episode) -> list[tuple[str, str]]:
    return [(t.visible_text, r.text) for t, r in zip(episode.doctor_turns, episode.patient_replies)]


def _patient_view(episode: Episode) -> list[dict]:
    """What the patient may know of the conversation: visible text only, never reasoning."""
    view = [{"role": "patient", "text": episode.case.opening_statement}]
    for doctor_text, patient_text in _visible_history(episode):
        view += [{"role": "doctor", "text": doctor_text}, {"role": "patient", "text": patient_text}]
    return view


class DiagnosisEnvironment:
    """Doctor, patient and judge around a group of cases.

    Every turn, all still-active episodes of the step go to the doctor in one batched call and
    finished ones leave the batch. An episode ends at `Final diagnosis:` or after `max_turns`
    doctor turns; the last turn tells the doctor to commit.
    """

    def __init__(self, patient: Patient, judge: Judge, max_turns: int = 5):
        self.patient, self.judge, self.max_turns = patient, judge, max_turns
        self.observers: list[Callable[[int, int, int], None]] = []  # (turn, max_turns, active) e.g. progress bars

    def run(self, doctor, cases: list[Case], group_size: int, greedy: bool = False) -> tuple[list[Episode], RolloutStats]:
        """Episodes in case-major order (case c, episode g at index c * group_size + g)."""
        cases = self.patient.prepare(cases)
        episodes = [Episode(case, group=c) for c, case in enumerate(cases) for _ in range(group_size)]
        stats = RolloutStats()
        turn_cache = doctor.turn_cache() if hasattr(doctor, "turn_cache") else None
        for turn in range(self.max_turns):
            active = [e for e in episodes if not e.finished]
            if not active:
                break
            for observe in self.observers:
                observe(turn, self.max_turns, len(active))
            self._doctor_turn(doctor, active, last_turn=turn == self.max_turns - 1, greedy=greedy, stats=stats,
                              turn_cache=turn_cache)
            waiting = [e for e in active if not e.finished and turn < self.max_turns - 1]
            started = time.perf_counter()
            replies = self.patient.reply_batch([e.case for e in waiting], [e.doctor_turns[-1].visible_text for e in waiting],
                                               [_patient_view(e) for e in waiting])
            stats.patient_seconds += time.perf_counter() - started
            for episode, reply in zip(waiting, replies):
                episode.patient_replies.append(reply)
        if turn_cache is not None:
            stats.prompt_tokens_encoded, stats.prompt_tokens_reused = turn_cache.prefilled_tokens, turn_cache.reused_tokens
        started = time.perf_counter()
        to_score = [e for e in episodes if not e.failed]
        for episode, score in zip(to_score, self.judge.score_batch(to_score)):
            episode.score = score
        stats.judge_seconds += time.perf_counter() - started
        return episodes, stats

    def _doctor_turn(self, doctor, active: list[Episode], last_turn: bool, greedy: bool, stats: RolloutStats,
                     turn_cache=None):
        prompts = [doctor.prompt_ids(doctor_messages(e.case, _visible_history(e), last_turn)) for e in active]
        started = time.perf_counter()
        if turn_cache is not None:
            completions = doctor.sample(prompts, greedy=greedy, turn_cache=turn_cache, keys=[id(e) for e in active])
        else:
            completions = doctor.sample(prompts, greedy=greedy)
        stats.doctor_seconds += time.perf_counter() - started
        stats.doctor_tokens += sum(len(c) for c in completions)
        stats.turn_batch_sizes.append(len(active))
        for episode, prompt, completion in zip(active, prompts, completions):
            text = doctor.decode(completion)
            split = split_reasoning(text)
            episode.doctor_turns.append(DoctorTurn(prompt, completion, text, split.visible_text,
                                                   split.reasoning, split.well_formed))
            episode.final_diagnosis = final_diagnosis(split.visible_text)
            if episode.final_diagnosis is not None:
                episode.differential = differential(split.visible_text)
