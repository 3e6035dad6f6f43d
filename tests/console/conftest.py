"""A real console server on a free loopback port, in a thread, for the whole module; a
headless Chromium (Debian's, driven by Playwright) for the browser tests."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from config.settings import ConsoleSettings
from console.app import create_app
from tests.console.support import seed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Quiet(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # pragma: no cover - not in main thread
        pass


@pytest.fixture(scope="module")
def world(dsn: str) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    return {**seed(dsn, tag), "tag": tag}


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port, in a thread; its URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
    )
    server = _Quiet(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(_wait_up, url)
    yield url
    server.should_exit = True
    thread.join(30)


# Every test module signs in from 127.0.0.1 against one database: the count of failed
# sign-ins per source (30 by default) would add up across modules and refuse unrelated
# tests. Per-source throttling is tested with sources of its own (test_sign_in.py).
SHARED = ConsoleSettings(sign_in_source_failures=100_000)


@pytest.fixture(scope="module")
def console_url(dsn: str) -> Iterator[str]:
    with serving(create_app(dsn, SHARED)) as url:
        yield url


async def _wait_up(url: str) -> None:
    with anyio.fail_after(30):
        while True:
            try:
                async with httpx.AsyncClient() as client:
                    await client.get(url + "/openapi.json")
                return
            except httpx.TransportError:
                await anyio.sleep(0.05)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: ./dev test installs Debian's chromium")
    with sync_playwright() as p:
        # the browser's own zone is UTC: every time it shows must still be Beijing time
        env: dict[str, str | float | bool] = {**os.environ, "TZ": "UTC"}
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, console_url: str) -> Iterator[Page]:
    """A fresh signed-out console page at 1400x1000 in a zh-CN browser context."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(console_url + "/")
    yield page
    context.close()
