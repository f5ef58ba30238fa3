"""A judge played by a chat model: JSON sub-scores combined by config weights into [0, 1]."""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass

from grpodx.api import APICallError, ChatClient, ChatSession, Endpoint, PriceTable, StructuredOutput
from grpodx.episode import Episode, Score
from grpodx.judges.base import Judge, validate_weights, weighted_reward
from grpodx.patients.base import mentions

FIELD = "model.init_args.judge.init_args"
# JSON key the judge fills -> the Score part it becomes
PART_OF = {"diagnosis_accuracy": "diagnosis", "reasoning_quality": "reasoning", "question_relevance": "questions"}
PARTS = tuple(PART_OF.values())
SCORES_SCHEMA = {
    "type": "object",
    "properties": {**{key: {"type": "number"} for key in PART_OF}, "rationale": {"type": "string"}},
    "required": [*PART_OF, "rationale"],
    "additionalProperties": False,
}
CRITERIA = """Score each in [0, 1]:
- diagnosis_accuracy: 1 for the true disease or a synonym; partial credit for a close answer (same
  disease family, organ system or a less specific but correct diagnosis); 0 for a wrong or missing one.
- reasoning_quality: whether the doctor's hidden <reason> blocks are sound and use what the patient said.
- question_relevance: whether the questions were relevant and efficient for narrowing the differential."""


@dataclass(frozen=True)
class JudgedScore(Score):
    """A Score with the judge's short rationale, and whether it came as structured JSON."""

    rationale: str = ""
    structured: bool = True


class OpenAIJudge(Judge):
    """Sends the whole conversation (hidden <reason> blocks included) and the hidden disease to an
    LLM, which returns sub-scores and a rationale as JSON (response_format json_schema).

    A server without structured output is asked the seed's plain question, and the first number
    in [0, 1] of its reply is the reward (diagnosis_level "unstructured", counted as
    api/judge_unstructured). A call that still fails gives a failed Score, never a made-up reward.

    Args:
        model, base_url, temperature, max_tokens, timeout, max_retries, max_concurrency, api_key_env:
            the chat endpoint (see grpodx.api.Endpoint); the key is read from `api_key_env`.
        weights: weight of each part (diagnosis, reasoning, questions) in the reward.
        structured_output: send response_format; false asks the seed's plain question from the start.
        prices: USD per 1M tokens for models missing from the built-in table, {model: {input, output}}.
    """

    def __init__(self, model: str = "gpt-4o-mini", base_url: str | None = None, temperature: float = 0.0,
                 max_tokens: int = 300, timeout: float = 60.0, max_retries: int = 3, max_concurrency: int = 16,
                 api_key_env: str | None = "OPENAI_API_KEY", weights: dict[str, float] | None = None,
                 structured_output: bool = True, prices: dict[str, dict[str, float]] | None = None):
        self.weights = dict(weights or {"diagnosis": 0.6, "reasoning": 0.2, "questions": 0.2})
        validate_weights(self.weights, PARTS, f"{FIELD}.weights")
        endpoint = Endpoint(model, base_url, temperature, max_tokens, timeout, max_retries, max_concurrency,
                            api_key_env)
        self.client = ChatClient(endpoint, "judge", FIELD, PriceTable(prices, f"{FIELD}.prices"))
        self._structured = StructuredOutput("judge_scores", SCORES_SCHEMA, enabled=structured_output)

    def drain_usage(self) -> dict[str, float]:
        return self.client.ledger.drain()

    def score(self, episode: Episode) -> Score:
        return self.score_batch([episode])[0]

    def score_batch(self, episodes: list[Episode]) -> list[Score]:
        """All episodes of a step scored concurrently (bounded by max_concurrency)."""
        if not episodes:
            return []
        return self.client.run(lambda session: asyncio.gather(*(self._score(session, e) for e in episodes)))

    async def _score(self, session: ChatSession, episode: Episode) -> Score:
        if not episode.case.hidden_diagnosis:
            return Score(0.0, {}, failed=True, error="no hidden diagnosis to judge against")
        try:
            reply = await self._structured.ask(session, judge_messages(episode, structured=True))
            if reply is not None and (parts := _parts(reply.data)) is not None:
                rationale = str(reply.data.get("rationale", ""))[:500]
                return JudgedScore(weighted_reward(parts, self.weights), parts, _level(episode, parts["diagnosis"]),
                                   rationale=rationale)
            text = reply.text if reply is not None else \
                (await session.complete(judge_messages(episode, structured=False))).text
        except APICallError as error:
            return Score(0.0, {}, failed=True, error=f"judge call failed: {error}")
        value = first_unit_number(text)
        if value is None:
            return Score(0.0, {}, failed=True, error=f"judge reply had no score in [0, 1]: {text[:120]!r}")
        self.client.ledger.count("judge_unstructured")
        level = "exact" if _names_hidden(episode) else "unstructured"
        return JudgedScore(value, {"overall": value}, level, rationale=text[:500], structured=False)


def judge_messages(episode: Episode, structured: bool) -> list[dict]:
    """The judge's prompt: the hidden disease, then every turn with the doctor's hidden reasoning."""
    case = episode.case
    also = f" (also called: {', '.join(case.aliases)})" if case.aliases else ""
    lines = []
    for turn in episode.transcript():
        if turn["role"] == "doctor":
            reason = f"<reason>{turn['reasoning']}</reason> " if turn.get("reasoning") else ""
            lines.append(f"Doctor: {reason}{turn['text']}")
        else:
            lines.append(f"Patient: {turn['text']}")
    final = episode.final_diagnosis or "none given"
    ask = (f"{CRITERIA}\nReply with JSON: diagnosis_accuracy, reasoning_quality, question_relevance and a "
           "one- or two-sentence rationale." if structured else
           "Rate the doctor's diagnosis and reasoning. Respond with only a single number between 0 and 1.")
    system = ("You grade a doctor-in-training's diagnostic conversation with a simulated patient. The "
              "doctor's <reason> blocks were hidden from the patient.")
    user = (f"The patient's true disease: {case.hidden_diagnosis}{also}.\n\nConversation:\n" + "\n".join(lines)
            + f"\n\nThe doctor's final diagnosis: {final}\n\n{ask}")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def first_unit_number(text: str) -> float | None:
    """The seed's rule for a plain-text judge reply: the first number in [0, 1]."""
    for match in re.finditer(r"(?<![\d.])(\d+(?:\.\d+)?|\.\d+)", text):
        value = float(match.group(1))
        if 0.0 <= value <= 1.0:
            return value
    return None


def _parts(data: dict | None) -> dict[str, float] | None:
    """The sub-scores as parts clamped to [0, 1]; None when one is missing or not a finite number."""
    if data is None:
        return None
    parts = {}
    for key, part in PART_OF.items():
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        parts[part] = min(max(float(value), 0.0), 1.0)
    return parts


def _names_hidden(episode: Episode) -> bool:
    return episode.final_diagnosis is not None and mentions(episode.final_diagnosis, episode.case.diagnosis_names)


def _level(episode: Episode, diagnosis: float) -> str:
    """For train/accuracy: exact when the answer names the disease or the judge gave full credit."""
    if episode.final_diagnosis is None:
        return "missing"
    if _names_hidden(episode) or diagnosis >= 0.999:
        return "exact"
    return "partial" if diagnosis > 0 else "wrong"
