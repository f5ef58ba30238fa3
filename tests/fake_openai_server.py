"""A real chat-completions HTTP server on 127.0.0.1 for tests, with scripted replies and faults.

Tests talk to it through the official openai client (no mock of the client): each request gets the
next queued `Scripted` fault or reply, else the `route` function's answer. Handlers sleep at most
`MAX_DELAY_S`, and the server shuts itself down after `lifetime_s` even if a test forgets to.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


MAX_DELAY_S = 10.0


@dataclass
class Scripted:
    """One scripted answer: chat content, or an HTTP status, a raw (malformed) body, a delay."""

    content: str = "I have had it for a few days."
    status: int = 200
    delay_s: float = 0.0
    raw_body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def retry_soon(status: int, message: str = "scripted failure") -> Scripted:
    """An error the client should retry after 10 ms (Retry-After-Ms keeps retry tests fast)."""
    body = json.dumps({"error": {"message": message, "type": "server_error", "code": None}})
    return Scripted(status=status, raw_body=body, headers={"retry-after-ms": "10"})


def default_route(request: dict) -> Scripted:
    """Plausible answers by what was asked: a disease pick, a judge score, or a patient reply."""
    schema = ((request.get("response_format") or {}).get("json_schema") or {}).get("name", "")
    if schema == "disease_pick":
        return Scripted(json.dumps({"disease": "Influenza", "aliases": ["flu"], "age": 34, "sex": "female",
                                    "opening_complaint": "I have a fever and aches all over."}))
    if schema == "judge_scores":
        return Scripted(json.dumps({"diagnosis_accuracy": 0.5, "reasoning_quality": 0.8,
                                    "question_relevance": 1.0, "rationale": "Close, but not exact."}))
    return Scripted("It started three days ago and it hurts when I breathe in.")


class FakeOpenAIServer(ThreadingHTTPServer):
    """Serves POST /v1/chat/completions; records requests, the auth header and peak concurrency."""

    daemon_threads = True
    request_queue_size = 256  # socketserver's 5 drops concurrent connects, and a SYN retry costs 1 s

    def __init__(self, route: Callable[[dict], Scripted] = default_route, lifetime_s: float = 120.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.route = route
        self.script: deque[Scripted] = deque()
        self.requests: list[dict] = []
        self.authorizations: list[str] = []
        self.in_flight = self.peak_in_flight = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._deadline = threading.Timer(lifetime_s, self.stop)
        self._deadline.daemon = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        self._deadline.start()
        return self

    def stop(self) -> None:
        self._deadline.cancel()
        if self._thread.is_alive():
            self.shutdown()
        self.server_close()

    def queue(self, *answers: Scripted) -> None:
        """Answer the next requests with these, in order, before falling back to `route`."""
        with self._lock:
            self.script.extend(answers)

    def _next(self, request: dict) -> Scripted:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            if self.script:
                return self.script.popleft()
        return self.route(request)

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAIServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: Nagle would stall each reply 40 ms

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if not self.path.endswith("/chat/completions"):
            return self._send(404, json.dumps({"error": {"message": "not found"}}), {})
        request = json.loads(body)
        self.server.authorizations.append(self.headers.get("authorization", ""))
        answer = self.server._next(request)
        try:
            time.sleep(min(answer.delay_s, MAX_DELAY_S))
            raw = answer.raw_body if answer.raw_body is not None else _completion(request, answer.content)
            self._send(answer.status, raw, answer.headers)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and hung up
            pass
        finally:
            self.server._done()

    def _send(self, status: int, raw: str, headers: dict[str, str]) -> None:
        data = raw.encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


def _words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def _completion(request: dict, content: str) -> str:
    """A chat.completion body; token counts are word counts, so tests can check the accounting."""
    prompt = sum(_words(str(m.get("content", ""))) for m in request.get("messages", []))
    completion = _words(content)
    return json.dumps({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": request.get("model", "fake"),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    })

