"""Chat calls to an Endpoint: async, bounded concurrency, the SDK's retries, each call accounted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import openai

from grpodx.api.endpoint import Endpoint
from grpodx.api.prices import PriceTable
from grpodx.api.usage import CallRecord, UsageLedger, shared_ledger

T = TypeVar("T")


@dataclass(frozen=True)
class ChatResult:
    """The assistant's text of one call and what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float


class APICallError(Exception):
    """A call that still failed after the SDK's retries (429, 5xx, timeouts) or came back malformed.

    `status` is the HTTP status when the server answered with an error, else None.
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ChatClient:
    """Holds an Endpoint and its key (read from the environment here, kept only in this object).

    `run` gives async work a fresh AsyncOpenAI client and a semaphore of `max_concurrency` slots on
    a new event loop: the training loop is sync, and an httpx pool must not outlive its loop.
    Retries with exponential backoff (and Retry-After) are the SDK's, `max_retries` times.
    """

    def __init__(self, endpoint: Endpoint, role: str, field: str, prices: PriceTable | None = None,
                 ledger: UsageLedger | None = None):
        endpoint.validate(field)
        self.endpoint, self.role = endpoint, role
        self.prices = prices or PriceTable()
        self.ledger = ledger or shared_ledger()
        self._api_key = endpoint.api_key(field)

    def __repr__(self) -> str:  # never show the key
        return f"ChatClient({self.endpoint!r}, role={self.role!r})"

    def run(self, work: Callable[[ChatSession], Awaitable[T]]) -> T:
        return asyncio.run(self._run(work))

    async def _run(self, work: Callable[[ChatSession], Awaitable[T]]) -> T:
        e = self.endpoint
        client = openai.AsyncOpenAI(api_key=self._api_key, base_url=e.base_url, timeout=e.timeout,
                                    max_retries=e.max_retries)
        try:
            return await work(ChatSession(self, client, asyncio.Semaphore(e.max_concurrency)))
        finally:
            await client.close()


class ChatSession:
    """One event loop's view of a ChatClient: `complete` waits for a free slot, then calls."""

    def __init__(self, owner: ChatClient, client: openai.AsyncOpenAI, slots: asyncio.Semaphore):
        self._owner, self._client, self._slots = owner, client, slots

    async def complete(self, messages: list[dict], response_format: dict | None = None) -> ChatResult:
        """The assistant's reply; raises APICallError (already recorded as a failed call)."""
        e = self._owner.endpoint
        extra = {"response_format": response_format} if response_format else {}
        async with self._slots:
            started = time.perf_counter()
            self._owner.ledger.change_in_flight(+1)
            try:
                response = await self._client.chat.completions.create(
                    model=e.model, messages=messages, temperature=e.temperature, max_tokens=e.max_tokens, **extra)
                result = _read(response, time.perf_counter() - started)
            except openai.APIStatusError as error:
                self._record(None, started)
                retried = f" after {e.max_retries} retries" if error.status_code == 429 or error.status_code >= 500 else ""
                raise APICallError(f"HTTP {error.status_code}{retried}: {_first_line(error.message)}",
                                   error.status_code) from error
            except openai.APITimeoutError as error:
                self._record(None, started)
                raise APICallError(f"timed out after {e.timeout}s, {e.max_retries} retries") from error
            except openai.APIConnectionError as error:
                self._record(None, started)
                raise APICallError(f"cannot connect to {e.base_url or 'the OpenAI API'}: {error}") from error
            except (ValueError, TypeError, AttributeError, IndexError, openai.APIError) as error:
                self._record(None, started)
                raise APICallError(f"malformed response: {_first_line(str(error)) or type(error).__name__}") from error
            finally:
                self._owner.ledger.change_in_flight(-1)
        self._record(result, started)
        return result

    def _record(self, result: ChatResult | None, started: float) -> None:
        owner = self._owner
        model = owner.endpoint.model
        if result is None:
            call = CallRecord(owner.role, model, 0, 0, time.perf_counter() - started, 0.0, failed=True)
        else:
            cost = owner.prices.cost_usd(model, result.prompt_tokens, result.completion_tokens)
            call = CallRecord(owner.role, model, result.prompt_tokens, result.completion_tokens, result.latency_s, cost)
        owner.ledger.record(call)


def _read(response, latency_s: float) -> ChatResult:
    """Check the parts we use: a body without choices or text is malformed, not an empty reply."""
    text = response.choices[0].message.content
    if not isinstance(text, str):
        raise ValueError(f"no message content (finish_reason={response.choices[0].finish_reason})")
    usage = response.usage
    return ChatResult(text, int(getattr(usage, "prompt_tokens", 0) or 0),
                      int(getattr(usage, "completion_tokens", 0) or 0), latency_s)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""
