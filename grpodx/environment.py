"""The diagnosis environment: runs G episodes of each case, turn by turn, in batches."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from grpodx import measurements
from grpodx.cases import Case
from grpodx.dialogue import differential, final_diagnosis
from grpodx.doctor.turns import Conversations, Seat, TurnTaker
from grpodx.episode import Episode, PatientReply
from grpodx.errors import RolloutInterrupted
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
    turn_decode_steps: list[int] = field(default_factory=list)  # the longest reply of each batched turn

    @property
    def slot_utilisation(self) -> float:
        """Doctor tokens sampled / (decode steps x rows): the share of a turn's batch slots that held
        a row still writing (a row whose reply ended waits for the longest one)."""
        slots = sum(steps * rows for steps, rows in zip(self.turn_decode_steps, self.turn_batch_sizes))
        return self.doctor_tokens / slots if slots else 0.0

    @property
    def doctor_tokens_per_s(self) -> float:
        return self.doctor_tokens / self.doctor_seconds if self.doctor_seconds else 0.0


class DiagnosisEnvironment:
    """Doctor, patient and judge around a group of cases.

    Every turn, all still-active episodes of the step go to the doctor in one batched call and
    finished ones leave the batch. An episode ends at `Final diagnosis:` or after `max_turns`
    doctor turns; the last turn tells the doctor to commit.
    """

    def __init__(self, patient: Patient, judge: Judge, max_turns: int = 5):
        self.patient, self.judge, self.max_turns = patient, judge, max_turns
        self.observers: list[Callable[[int, int, int], None]] = []  # (turn, max_turns, active) e.g. progress bars
        self.should_stop: Callable[[], bool] = lambda: False  # polled every turn and while sampling (preemption)

    def run(self, doctor: TurnTaker, cases: list[Case], group_size: int, greedy: bool = False) -> tuple[list[Episode], RolloutStats]:
        """Episodes in case-major order (case c, episode g at index c * group_size + g)."""
        cases = self.patient.prepare(cases)
        episodes = [Episode(case, group=c) for c, case in enumerate(cases) for _ in range(group_size)]
        stats = RolloutStats()
        conversations = Conversations(doctor, stop=self.should_stop)
        for turn in range(self.max_turns):
            self._check_stop()
            active = [e for e in episodes if not e.finished]
            if not active:
                break
            for observe in self.observers:
                observe(turn, self.max_turns, len(active))
            self._doctor_turn(conversations, active, last_turn=turn == self.max_turns - 1, greedy=greedy,
                              stats=stats)
            self._check_stop()
            waiting = [e for e in active if not e.finished and turn < self.max_turns - 1]
            self._answer(waiting, stats)
        stats.prompt_tokens_encoded, stats.prompt_tokens_reused = conversations.prompt_tokens
        started = time.perf_counter()
        to_score = [e for e in episodes if not e.failed]
        for episode, score in zip(to_score, self.judge.score_batch(to_score)):
            episode.score = score
        stats.judge_seconds += time.perf_counter() - started
        return episodes, stats

    def _check_stop(self) -> None:
        if self.should_stop():
            raise RolloutInterrupted("stopped during a rollout; its episodes are dropped")

    def _answer(self, waiting: list[Episode], stats: RolloutStats) -> None:
        """The patient answers its part of each turn; examination and test requests are answered
        from the record (grpodx.measurements), within the same per-turn budget, unseen by the patient."""
        budget = self.patient.max_questions_per_turn
        routed = [measurements.route(e.doctor_turns[-1].visible_text, budget) for e in waiting]
        asking = [i for i, r in enumerate(routed) if r.patient_text.strip() or not r.requests]
        started = time.perf_counter()
        replies = self.patient.reply_batch([waiting[i].case for i in asking], [routed[i].patient_text for i in asking],
                                           [waiting[i].patient_view() for i in asking])
        stats.patient_seconds += time.perf_counter() - started
        answered = dict(zip(asking, replies))
        for i, (episode, turn) in enumerate(zip(waiting, routed)):
            episode.patient_replies.append(answered.get(i, PatientReply("")))  # only tests asked: the patient is silent
            episode.measurements.append(measurements.answer(episode.case, turn, budget))

    def _doctor_turn(self, conversations: Conversations, active: list[Episode], last_turn: bool, greedy: bool,
                     stats: RolloutStats) -> None:
        seats = [Seat(id(e), e.opening_statement, e.visible_history()) for e in active]
        started = time.perf_counter()
        turns = conversations.next_turns(seats, last_turn, greedy)
        stats.doctor_seconds += time.perf_counter() - started
        stats.doctor_tokens += sum(len(t.completion_ids) for t in turns)
        stats.turn_batch_sizes.append(len(active))
        stats.turn_decode_steps.append(max((len(t.completion_ids) for t in turns), default=0))
        for episode, turn in zip(active, turns):
            episode.doctor_turns.append(turn)
            episode.final_diagnosis = final_diagnosis(turn.visible_text)
            if episode.final_diagnosis is not None:
                episode.differential = differential(turn.visible_text)
