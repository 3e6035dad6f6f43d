"""Limits on what the console reads: request bodies and requests per client.

A pure ASGI middleware, in front of everything FastAPI does: a body over
``max_body_bytes`` is refused with 413 before it is read (by its Content-Length, or by
counting a body sent without one), and each client address gets ``rate_limit``
requests (a moving window, the ``limits`` library) before it is answered 429. Neither
answer repeats anything the client sent. Together with the console running in a
process of its own (``hj212 serve`` starts it so: cli/console_process.py), nothing the
console receives can hold up the gateway's acknowledgements (issue 14, F-03).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    """The body turned out bigger than allowed while it was being read."""


async def _refuse(send: Send, status: int, text: str) -> None:
    body = json.dumps({"detail": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 429:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    def __init__(self, app: App, *, max_body_bytes: int, rate_limit: str) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.rate = parse(rate_limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        if not self.limiter.hit(self.rate, str(client)):
            await _refuse(send, 429, "too many requests: slow down")
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _refuse(send, 413, f"request body over {self.max_body} bytes")
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received, started = 0, False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except _TooLarge:
            if not started:
                await _refuse(send, 413, f"request body over {self.max_body} bytes")
