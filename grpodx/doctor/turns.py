"""The doctor's turn, one rule for training episodes and the interactive chat: the prompt it sees,
sampling (re-using each conversation's KV cache from its previous turn), decoding and splitting off
the hidden reasoning. The environment and the chat only say whose turn it is."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol

from grpodx.dialogue import split_reasoning
from grpodx.doctor.prompting import conversation_messages
from grpodx.doctor.turn_cache import TurnCache
from grpodx.episode import DoctorTurn


class TurnTaker(Protocol):
    """What takes a doctor's turns: `grpodx.doctor.Doctor` (both backends), or a test's scripted one."""

    def prompt_ids(self, messages: list[dict]) -> list[int]: ...

    def sample(self, prompts: list[list[int]], greedy: bool = False, turn_cache: TurnCache | None = None,
               keys: list | None = None, stop: Callable[[], bool] | None = None) -> list[list[int]]: ...

    def decode(self, ids: list[int]) -> str: ...

    def turn_cache(self) -> TurnCache | None: ...


@dataclass(frozen=True)
class Seat:
    """One conversation waiting for the doctor: its key (stable across its turns, for the KV cache),
    the patient's opening words and the visible (doctor text, patient reply) pairs so far."""

    key: Hashable
    opening_statement: str
    visible_history: list[tuple[str, str]]


class Conversations:
    """The doctor's side of a set of conversations (one rollout, or one chat): owns their KV cache."""

    def __init__(self, doctor: TurnTaker, stop: Callable[[], bool] | None = None):
        self.doctor = doctor
        self.cache = doctor.turn_cache()
        self.stop = stop  # asked while sampling: True ends the batch's generation early (preemption)

    def next_turns(self, seats: list[Seat], last_turn: bool, greedy: bool) -> list[DoctorTurn]:
        """The next doctor turn of every seat, in one batched sampling call."""
        doctor = self.doctor
        prompts = [doctor.prompt_ids(conversation_messages(s.opening_statement, s.visible_history, last_turn))
                   for s in seats]
        reuse = {"turn_cache": self.cache, "keys": [s.key for s in seats]} if self.cache is not None else {}
        if self.stop is not None:
            reuse["stop"] = self.stop
        completions = doctor.sample(prompts, greedy=greedy, **reuse)
        turns = []
        for prompt, completion in zip(prompts, completions):
            text = doctor.decode(completion)
            split = split_reasoning(text)
            turns.append(DoctorTurn(prompt, completion, text, split.visible_text, split.reasoning, split.well_formed))
        return turns

    @property
    def prompt_tokens(self) -> tuple[int, int]:
        """(encoded, re-used from the cache) prompt tokens so far; (0, 0) without a cache."""
        return (self.cache.prefilled_tokens, self.cache.reused_tokens) if self.cache is not None else (0, 0)
