"""Webhook delivery: POST each queued notification, retry with backoff until delivered.

Notifications are queued in ``hj212.notification`` in the same transaction as their
alarm (storage/alarms.py), so an alarm is never lost between the database and the
webhook, and a restart resumes where it stopped. :func:`deliver_due` takes the due
ones (storage/notifications.py: several deliverers never send one twice), POSTs the
JSON body (``Content-Type: application/json``; any 2xx answer is delivery), and on
failure schedules the next attempt ``backoff x 2^(attempts-1)`` later (at most an
hour), giving up after ``max_attempts`` (state ``failed``, the last error kept).
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import notifications
from storage.db import Conn

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


class DeliveryError(RuntimeError):
    """The webhook could not be reached, or did not answer 2xx."""


def post_json(url: str, body: object, timeout: float) -> int:
    """POST ``body`` as JSON; the HTTP status. :raises DeliveryError: not 2xx / no answer."""
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    data = json.dumps(body, ensure_ascii=False).encode()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = kind(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            path,
            body=data,
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "hj212"},
        )
        response = connection.getresponse()
        response.read()
    except OSError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise DeliveryError(f"HTTP {response.status} {response.reason}")
    return response.status


@dataclass(frozen=True)
class Delivery:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts: int, base: float) -> timedelta:
    """Wait before attempt ``attempts + 1``: base x 2^(attempts - 1), at most an hour."""
    return min(MAX_BACKOFF, timedelta(seconds=base * 2 ** max(0, attempts - 1)))


def deliver_due(
    conn: Conn,
    now: datetime,
    *,
    timeout: float = 5.0,
    max_attempts: int = 8,
    base_backoff: float = 5.0,
    limit: int = 100,
) -> Delivery:
    """One pass over the notifications due at ``now``; each settled in its own commit."""
    delivered = retrying = failed = 0
    for _ in range(limit):
        with conn.transaction():
            due = notifications.claim_due(conn, now)
            if due is None:
                break
            try:
                post_json(due.url, due.payload, timeout)
            except DeliveryError as exc:
                attempts = due.attempts + 1
                give_up = attempts >= max_attempts
                notifications.settle_failed(
                    conn,
                    due.id,
                    attempts,
                    str(exc),
                    give_up=give_up,
                    next_at=now + backoff(attempts, base_backoff),
                )
                log.warning("webhook %s attempt %d failed: %s", due.url, attempts, exc)
                failed += give_up
                retrying += not give_up
            else:
                notifications.settle_delivered(conn, due.id, now)
                delivered += 1
    return Delivery(delivered, retrying, failed)
