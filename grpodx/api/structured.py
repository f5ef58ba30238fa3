"""Structured output: ask for JSON matching a schema (response_format), and notice servers that can't."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from grpodx.api.client import APICallError, ChatSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StructuredReply:
    """The reply's JSON object when it parsed with every required key, else None; and the raw text."""

    data: dict | None
    text: str


class StructuredOutput:
    """Sends `response_format: json_schema` (strict) for one schema.

    A server that rejects the parameter (HTTP 400/422) switches this object to plain mode for the
    rest of the run, and `ask` returns None so the caller can ask in plain text instead.
    """

    def __init__(self, name: str, schema: dict, enabled: bool = True):
        self.name, self.schema, self.enabled = name, schema, enabled
        self.response_format = {"type": "json_schema",
                                "json_schema": {"name": name, "schema": schema, "strict": True}}

    async def ask(self, session: ChatSession, messages: list[dict]) -> StructuredReply | None:
        if not self.enabled:
            return None
        try:
            result = await session.complete(messages, self.response_format)
        except APICallError as error:
            if error.status not in (400, 422):
                raise
            if self.enabled:
                log.warning("the server refused response_format for %s (%s); asking in plain text from now on",
                            self.name, error)
            self.enabled = False
            return None
        return StructuredReply(parse_json_object(result.text, tuple(self.schema.get("required", ()))), result.text)


def parse_json_object(text: str, required: tuple[str, ...] = ()) -> dict | None:
    """The JSON object in `text` (whole, or the first {...} span, e.g. inside ```json fences)."""
    candidates = [text]
    span = re.search(r"\{.*\}", text, re.DOTALL)
    if span:
        candidates.append(span.group(0))
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and all(key in value for key in required):
            return value
    return None
