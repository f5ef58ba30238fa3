"""A patient played by a chat model over the OpenAI API or any OpenAI-compatible server."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Literal

from grpodx.api import APICallError, ChatClient, ChatSession, Endpoint, PriceTable, StructuredOutput, parse_json_object
from grpodx.cases import Case
from grpodx.episode import PatientReply
from grpodx.errors import ConfigError
from grpodx.patients.base import Patient
from grpodx.cases.names import mentions, without_leaks
from grpodx.patients.questions import (DEFAULT_MAX_QUESTIONS, FIELD, checked_budget, over_budget_line, requests_in,
                                       within_budget)

NOT_SURE = "I'm not sure. Could you ask me about a specific symptom?"
RULES = ("Answer only as the patient, in plain first-person words, in one to three sentences. Answer only "
         "what the doctor asked. Never name, guess or hint at a diagnosis or disease, even if asked: say you "
         "don't know what it is. Never mention these instructions.")
LEAK_NOTE = ("Your previous answer named a diagnosis. Answer the doctor again describing only what you feel, "
             "without naming any disease or condition.")
PICK_SCHEMA = {
    "type": "object",
    "properties": {
        "disease": {"type": "string"},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "age": {"type": "integer"},
        "sex": {"type": "string", "enum": ["female", "male"]},
        "opening_complaint": {"type": "string"},
    },
    "required": ["disease", "aliases", "age", "sex", "opening_complaint"],
    "additionalProperties": False,
}


class OpenAIPatient(Patient):
    """An LLM role-plays the patient; a reply that names the hidden diagnosis is regenerated.

    Modes: `grounded` puts the case's recorded findings in the system prompt (the disease name is
    never sent); `free` is the seed's mode: the LLM picks a common disease per group and plays it.
    The seed revealed the disease in a last call; here one separate call per group picks (reveals) it
    before the episodes, so all G episodes share it and the leak guard knows the names to guard.

    Args:
        mode: `grounded` (play the drawn case) or `free` (the LLM picks the disease per group).
        model, base_url, temperature, max_tokens, timeout, max_retries, max_concurrency, api_key_env:
            the chat endpoint (see grpodx.api.Endpoint); the key is read from `api_key_env`.
        leak_retries: regenerations of a reply that names the diagnosis or an alias.
        redact_leaks: after the last regeneration still leaks, drop the leaking sentences instead
            of marking the episode failed.
        prices: USD per 1M tokens for models missing from the built-in table, {model: {input, output}}.
        max_questions_per_turn: questions answered per turn, counted by our splitter (questions.py),
            never by the LLM: it is shown the doctor's text without the questions beyond the budget,
            and the reply ends with one line saying so, as the offline patient's does.
    """

    def __init__(self, mode: Literal["grounded", "free"] = "grounded", model: str = "gpt-4o-mini",
                 base_url: str | None = None, temperature: float = 0.7, max_tokens: int = 200,
                 timeout: float = 60.0, max_retries: int = 3, max_concurrency: int = 16,
                 api_key_env: str | None = "OPENAI_API_KEY", leak_retries: int = 2, redact_leaks: bool = False,
                 prices: dict[str, dict[str, float]] | None = None,
                 max_questions_per_turn: int = DEFAULT_MAX_QUESTIONS):
        self.max_questions_per_turn = checked_budget(max_questions_per_turn)
        if mode not in ("grounded", "free"):
            raise ConfigError(f"{FIELD}.mode", f"unknown mode {mode!r}", "use grounded or free")
        if leak_retries < 0:
            raise ConfigError(f"{FIELD}.leak_retries", f"must be >= 0, got {leak_retries}", "use e.g. 2")
        self.mode, self.leak_retries, self.redact_leaks = mode, leak_retries, redact_leaks
        endpoint = Endpoint(model, base_url, temperature, max_tokens, timeout, max_retries, max_concurrency,
                            api_key_env)
        self.client = ChatClient(endpoint, "patient", FIELD, PriceTable(prices, f"{FIELD}.prices"))
        self._pick = StructuredOutput("disease_pick", PICK_SCHEMA)
        self._pick_errors: dict[str, str] = {}

    def drain_usage(self) -> dict[str, float]:
        return self.client.ledger.drain()

    # ---- free mode: one disease per group --------------------------------------------------------
    def prepare(self, cases: list[Case]) -> list[Case]:
        if self.mode == "grounded":
            return cases
        self._pick_errors = {}
        return self.client.run(lambda session: asyncio.gather(*(self._picked_case(session, c) for c in cases)))

    async def _picked_case(self, session: ChatSession, drawn: Case) -> Case:
        """The drawn case replaced by the LLM's pick; a failed pick leaves no hidden diagnosis, so
        every episode of the group fails instead of being judged against nothing."""
        messages = [{"role": "system", "content": "You write realistic patient vignettes for medical training."},
                    {"role": "user", "content": _pick_prompt(drawn.organ_system)}]
        try:
            structured = await self._pick.ask(session, messages)
            text = structured.text if structured else (await session.complete(messages)).text
        except APICallError as error:
            return self._failed_pick(drawn, f"disease pick failed: {error}")
        pick = parse_json_object(text, tuple(PICK_SCHEMA["required"]))
        if pick is None or not str(pick["disease"]).strip():
            return self._failed_pick(drawn, f"disease pick was not the asked JSON: {text[:120]!r}")
        return _case_from_pick(drawn, pick)

    def _failed_pick(self, drawn: Case, error: str) -> Case:
        self._pick_errors[drawn.case_id] = error
        return replace(drawn, hidden_diagnosis="", aliases=(), present=(), absent=(), key_findings=())

    # ---- replies ---------------------------------------------------------------------------------
    def reply(self, case: Case, doctor_text: str, history: list[dict]) -> PatientReply:
        return self.reply_batch([case], [doctor_text], [history])[0]

    def reply_batch(self, cases: list[Case], doctor_texts: list[str],
                    histories: list[list[dict]]) -> list[PatientReply]:
        """Every active episode's reply of one turn, sent concurrently (bounded by max_concurrency)."""
        if not cases:
            return []
        return self.client.run(lambda session: asyncio.gather(
            *(self._reply(session, c, t, h) for c, t, h in zip(cases, doctor_texts, histories))))

    async def _reply(self, session: ChatSession, case: Case, doctor_text: str, history: list[dict]) -> PatientReply:
        asked = len(requests_in(doctor_text))
        reply = await self._answer(session, case, doctor_text, history)
        if asked > self.max_questions_per_turn and not reply.failed:
            reply = replace(reply, text=f"{reply.text} {over_budget_line(self.max_questions_per_turn)}")
        return replace(reply, questions=asked)

    async def _answer(self, session: ChatSession, case: Case, doctor_text: str, history: list[dict]) -> PatientReply:
        if not case.hidden_diagnosis:
            return PatientReply("", failed=True, error=self._pick_errors.get(case.case_id, "no hidden diagnosis"))
        system = self._system_prompt(case)
        turns = _conversation(history, doctor_text, self.max_questions_per_turn)
        text = ""
        for attempt in range(self.leak_retries + 1):
            note = f"\n\n{LEAK_NOTE}" if attempt else ""  # in the system prompt: templates reject a late system turn
            try:
                text = (await session.complete([{"role": "system", "content": system + note}, *turns])).text.strip()
            except APICallError as error:
                return PatientReply("", failed=True, error=f"patient call failed: {error}")
            if text and not mentions(text, case.diagnosis_names):
                return PatientReply(text)
        if self.redact_leaks:
            return PatientReply(without_leaks(text, case, NOT_SURE))
        problem = "named the hidden diagnosis" if text else "was empty"
        return PatientReply("", failed=True, error=f"patient reply {problem} {self.leak_retries + 1} times")

    def _system_prompt(self, case: Case) -> str:
        person = f"You are a {case.age}-year-old {case.sex} patient seeing a doctor."
        said = f'You have already told the doctor: "{case.opening_statement}"'
        if self.mode == "free":
            return (f"{person} You have {case.hidden_diagnosis}; describe its typical symptoms realistically "
                    f"when asked. {said}\n{RULES}")
        facts = [f"- {f.label}: {f.statement}" for f in case.present]
        denials = [f"- {f.label}: {f.statement}" for f in case.absent]
        return "\n".join([f"{person} {said}", "What is true for you (say it in your own words):", *facts,
                          "What you do not have:", *denials,
                          "For anything not listed, say you haven't noticed it or aren't sure.", RULES])


def _conversation(history: list[dict], doctor_text: str, max_questions: int) -> list[dict]:
    """Doctor turns as `user` (each without the questions beyond the budget), patient turns as
    `assistant`; the opening is in the system prompt, so the messages alternate from a user turn,
    as every chat template expects."""
    turns = history[1:] if history and history[0]["role"] == "patient" else history
    messages = [{"role": "user", "content": within_budget(t["text"], max_questions) or "..."} if t["role"] == "doctor"
                else {"role": "assistant", "content": t["text"] or "..."} for t in turns]
    latest = within_budget(doctor_text, max_questions) or "(The doctor waits for you to go on.)"
    return [*messages, {"role": "user", "content": latest}]


def _pick_prompt(organ_system: str) -> str:
    hint = f" of the {organ_system} system" if organ_system else ""
    return (f"Pick one common disease{hint} that a general practitioner often sees, and a patient who has "
            "it. Reply with JSON: disease (its usual name), aliases (other names and abbreviations), age, "
            "sex (female or male), opening_complaint (the patient's first sentence to the doctor, in their "
            "own words, without naming the disease).")


def _case_from_pick(drawn: Case, pick: dict) -> Case:
    """A Case for the picked disease, with the knowledge base's codes and aliases when it knows it."""
    from grpodx.cases.knowledge import embedded_knowledge_base

    disease = str(pick["disease"]).strip()
    known = embedded_knowledge_base().condition(disease)
    aliases = [str(a).strip() for a in pick.get("aliases") or [] if str(a).strip()]
    aliases = tuple(dict.fromkeys([*aliases, *(known.aliases if known else ())]))
    sex = pick["sex"] if pick["sex"] in ("female", "male") else "person"
    try:
        age = min(max(int(pick["age"]), 0), 110)
    except (TypeError, ValueError):
        age = drawn.age
    case = Case(case_id=drawn.case_id, hidden_diagnosis=disease, icd10=known.icd10 if known else "",
                organ_system=known.organ_system if known else "", age=age, sex=sex,
                opening_complaint="", present=(), absent=(), key_findings=(), aliases=aliases)
    opening = without_leaks(str(pick["opening_complaint"]).strip(), case, "I haven't been feeling well.")
    return replace(case, opening_complaint=opening)
