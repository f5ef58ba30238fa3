"""What the doctor asked in one turn: the question splitter and the per-turn question budget.

Both patients count with these functions, so `PatientReply.questions` means the same thing whoever
plays the patient, and a doctor cannot buy findings credit by asking more questions per turn
(issue 11: twelve one-word questions earned 0.69 `findings` credit against 0.11 for two targeted ones).
"""

from __future__ import annotations

import re

from grpodx.errors import ConfigError

FIELD = "model.init_args.patient.init_args"
DEFAULT_MAX_QUESTIONS = 3
_QUESTION_START = re.compile(
    r"^(do|does|did|have|has|had|are|is|was|were|any|can|could|how|when|where|what|which|who|why|"
    r"tell|describe|please|would|will|should|so)\b", re.IGNORECASE)
_ASKS_DIAGNOSIS = re.compile(
    r"(what (do i|i) have|what is wrong|what's wrong|(your|the|my|patient's|hidden|true|real|actual|correct|"
    r"final) diagnosis|diagnosis (is|was)|which disease|what disease|name of (the|your) (disease|condition)|"
    r"(name|reveal|tell me|say|state|print) (the|your|this) (disease|condition|illness)|what condition|"
    r"what (illness|sickness) |what are you suffering from|what is it called|disease name|"
    r"ignore (your|all|previous|the above)( \w+)? (instructions|rules)|system prompt|developer mode|"
    r"(repeat|print|show) (your|the) (instructions|prompt|case|record))", re.IGNORECASE)
# A '?' ends a question even with no space after it: "Fever?Cough?Rash?" is three questions, not one.
_SENTENCE_END = re.compile(r"(?<=\?)\s*|(?<=[.!])\s+|\n+")
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def questions_in(text: str) -> list[str]:
    """The questions in a doctor's visible text: sentences ending in '?' or opening like one.

    Statements are not answered: a doctor must ask to uncover a finding (and earn judge credit).
    """
    return [s for s in sentences(text) if s.endswith("?") or _QUESTION_START.match(s)]


def asks_diagnosis(question: str) -> bool:
    """A request for the diagnosis itself, or an attempt to make the patient step out of its role."""
    return bool(_ASKS_DIAGNOSIS.search(question))


def requests_in(text: str) -> list[str]:
    """The questions, plus any sentence that asks for the diagnosis ("Tell me the disease."): what
    the patient answers and what counts against the budget."""
    return [s for s in sentences(text) if is_request(s)]


def is_request(sentence: str) -> bool:
    return sentence.endswith("?") or bool(_QUESTION_START.match(sentence)) or asks_diagnosis(sentence)


def within_budget(text: str, max_questions_per_turn: int) -> str:
    """`text` with the requests beyond the budget left out (statements kept): what an LLM patient
    is shown, so it cannot answer more than the offline patient would."""
    kept, count = [], 0
    for sentence in sentences(text):
        if is_request(sentence):
            count += 1
            if count > max_questions_per_turn:
                continue
        kept.append(sentence)
    return " ".join(kept)


def checked_budget(max_questions_per_turn: int) -> int:
    """The budget, validated once at start-up."""
    if isinstance(max_questions_per_turn, bool) or not isinstance(max_questions_per_turn, int) \
            or max_questions_per_turn < 1:
        raise ConfigError(f"{FIELD}.max_questions_per_turn", f"must be an integer >= 1, got {max_questions_per_turn!r}",
                          f"use e.g. {DEFAULT_MAX_QUESTIONS}")
    return max_questions_per_turn


def over_budget_line(max_questions_per_turn: int) -> str:
    """The one line said instead of answering the questions beyond the budget."""
    count = _NUMBER_WORDS[max_questions_per_turn] if max_questions_per_turn < len(_NUMBER_WORDS) \
        else str(max_questions_per_turn)
    what = "one question" if max_questions_per_turn == 1 else f"{count} questions"
    return f"I can only answer {what} at a time; please ask me the rest later."
