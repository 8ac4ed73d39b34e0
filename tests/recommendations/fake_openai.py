"""A small OpenAI-compatible server on loopback: POST /v1/chat/completions.

The real openai client talks to it over HTTP (nothing of ours is patched). Each test queues
the answers it wants (a JSON answer, a 429 with Retry-After, a 500, a slow answer, malformed
content); with the queue empty it answers by picking the first candidates of the prompt, as a
well-behaved model would. Every request body received is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    # dict/list -> JSON-encoded as the message content; str -> the content as is; None -> auto.
    content: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw_body: bytes | None = None  # the whole HTTP body, bypassing the completion envelope
    prompt_tokens: int = 420
    completion_tokens: int = 80


def ok(content: Any = None, **kwargs: Any) -> Reply:
    return Reply(content=content, **kwargs)


def rate_limited(retry_after: str = "0") -> Reply:
    body = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
    return Reply(status=429, headers={"Retry-After": retry_after}, raw_body=json.dumps(body).encode())


def server_error(status: int = 500) -> Reply:
    body = {"error": {"message": "The server had an error", "type": "server_error", "code": None}}
    return Reply(status=status, raw_body=json.dumps(body).encode())


def slow(delay: float) -> Reply:
    return Reply(delay=delay)


class FakeOpenAI:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.raw_bodies: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def _next(self) -> Reply:
        with self._lock:
            return self.replies.popleft() if self.replies else Reply()

    @staticmethod
    def auto_answer(request: dict[str, Any]) -> dict[str, Any]:
        """Pick the first candidates of the prompt, like a model following the instructions."""
        user = next(m["content"] for m in request["messages"] if m["role"] == "user")
        candidates = json.loads(user)["candidates"]
        schema = request["response_format"]["json_schema"]["schema"]
        limit = schema["properties"]["items"]["maxItems"]
        return {
            "items": [
                {
                    "product_code": c["product_code"],
                    "rank": rank,
                    "rationale": c.get("why_it_fits")
                    or f"Worth discussing: {c['category']} product matching the profile.",
                    "confidence": 0.7,
                }
                for rank, c in enumerate(candidates[:limit], start=1)
            ]
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}', {})
                    return
                request = json.loads(raw)
                with fake._lock:
                    fake.raw_bodies.append(raw)
                    fake.requests.append(request)
                reply = fake._next()
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw_body is not None:
                    self._send(reply.status, reply.raw_body, reply.headers)
                    return
                content = reply.content if reply.content is not None else fake.auto_answer(request)
                text = content if isinstance(content, str) else json.dumps(content)
                body = {
                    "id": f"chatcmpl-fake-{len(fake.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model", "fake-model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text, "refusal": None},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": reply.prompt_tokens,
                        "completion_tokens": reply.completion_tokens,
                        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                    },
                }
                self._send(reply.status, json.dumps(body).encode(), reply.headers)

        return Handler
