"""The console in a process of its own, beside the gateway (``hj212 serve``, ``demo``).

It used to run on the gateway's event loop: one unauthenticated 20 MB request kept
that loop busy and every acknowledgement waited (issue 14, F-03). Now ``hj212 serve``
starts ``hj212 console`` as a child with the same settings and database, starts it
again if it ever exits, and stops it (SIGTERM, then SIGKILL after a grace) when it
stops itself. Whatever the console receives, or however it fails, the gateway's loop
never sees it. ``[console] own_process = false`` keeps the old way (tests, debugging).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys

import anyio
from anyio.abc import Process

from config.rules import RulesSettings
from config.settings import ConsoleSettings
from console.server import STOP_GRACE, serve_beside

log = logging.getLogger(__name__)


def _environment(settings: ConsoleSettings, rules: RulesSettings) -> dict[str, str]:
    """The parent's settings, passed on as the child's environment (highest precedence
    after flags), so that both read the same console settings whatever their source,
    and the same rules file (the parent's own environment is left as it was)."""
    env = dict(os.environ)
    env["HJ212_CONSOLE_PARENT"] = str(os.getpid())  # the child ends when we are gone
    if rules.source is not None:
        env["HJ212_RULES_CONFIG"] = str(rules.source)
    for f in dataclasses.fields(ConsoleSettings):
        value = getattr(settings, f.name)
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, tuple):  # lists are comma-separated (config/load.py)
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        env[f"HJ212_CONSOLE_{f.name.upper()}"] = text
    return env


async def run_console(settings: ConsoleSettings, dsn: str, rules: RulesSettings) -> None:
    """Serve the console until cancelled: in a child process (which reads the same rules
    file: its path goes into the child's environment), or here if so configured."""
    if not settings.own_process:
        await serve_beside(settings, dsn, rules)
        return
    argv = [sys.executable, "-m", "cli", "console", "--dsn", dsn]
    pause = 1.0
    while True:
        process = await anyio.open_process(
            argv,
            env=_environment(settings, rules),
            stdin=subprocess.DEVNULL,
            stdout=None,
            stderr=None,
        )
        log.info("console process %d at http://%s:%d/", process.pid, settings.host, settings.port)
        try:
            code = await process.wait()
        finally:
            with anyio.CancelScope(shield=True):
                await _stop(process)
        if code == 0:  # it was told to stop (a Ctrl-C reaches the whole process group)
            log.info("console process stopped; starting it again in %.0f s", pause)
        else:
            log.error("console process exited (%s); starting it again in %.0f s", code, pause)
        await anyio.sleep(pause)
        pause = min(pause * 2, 60.0)


async def _stop(process: Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    with anyio.move_on_after(STOP_GRACE + 2):
        await process.wait()
        return
    process.kill()
    await process.wait()
