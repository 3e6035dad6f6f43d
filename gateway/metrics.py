"""Prometheus metrics and the /metrics + /healthz HTTP endpoint (one registry per gateway)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.connections = Counter("hj212_connections", "Connections accepted", registry=r)
        self.refused = Counter(
            "hj212_connections_refused", "Connections refused by a limit", ["limit"], registry=r
        )
        self.open = Gauge("hj212_connections_open", "Connections open now", registry=r)
        self.closed = Counter(
            "hj212_connections_closed_by_gateway",
            "Connections the gateway closed",
            ["reason"],
            registry=r,
        )
        self.bytes_in = Counter("hj212_received_bytes", "Bytes received", registry=r)
        self.frames = Counter("hj212_frames", "Valid frames received", ["cn", "status"], registry=r)
        self.rejected = Counter("hj212_frames_rejected", "Frames rejected", ["code"], registry=r)
        self.garbage_bytes = Counter(
            "hj212_garbage_bytes",
            "Garbage bytes received; archived=no past the source's budget",
            ["archived"],
            registry=r,
        )
        self.acks = Counter("hj212_answers", "Answers (9014/9013) sent", registry=r)
        self.ack_latency = Histogram(
            "hj212_ack_latency_seconds",
            "Frame received -> durable -> answered",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.store_failures = Counter(
            "hj212_store_failures", "Frames neither committed nor spooled", registry=r
        )
        self.rate_limited = Counter(
            "hj212_rate_limited", "Reads paused by the per-connection frame rate limit", registry=r
        )
        self.backpressure = Counter(
            "hj212_backpressure_pauses", "Times reading stopped because storage lagged", registry=r
        )
        self.queue = Gauge("hj212_writer_queue", "Frames waiting for storage", registry=r)
        self.spool_bytes = Gauge("hj212_spool_bytes", "Bytes in the disk spool", registry=r)
        self.db_up = Gauge("hj212_database_up", "1 when writing to the database", registry=r)
        self.db_errors = Gauge("hj212_database_failed_batches", "Failed write batches", registry=r)
        self.commands = Counter(
            "hj212_commands", "Platform commands", ["cn", "outcome"], registry=r
        )
        # per upstream (services/forwarding.py, docs/forwarding.md §4)
        up = ["upstream"]
        self.upstream_backlog = Gauge(
            "hj212_upstream_backlog", "Frames queued for an upstream", up, registry=r
        )
        self.upstream_lag = Gauge(
            "hj212_upstream_lag_seconds", "Age of the oldest frame queued", up, registry=r
        )
        self.upstream_delivered = Gauge(
            "hj212_upstream_delivered",
            "Frames the upstream answered 9014 (process)",
            up,
            registry=r,
        )
        self.upstream_failures = Gauge(
            "hj212_upstream_failures", "Sends without a 9014 or a connection", up, registry=r
        )
        self.upstream_connected = Gauge(
            "hj212_upstream_connections", "Connections open to an upstream", up, registry=r
        )
        self.upstream_behind = Gauge(
            "hj212_upstream_behind", "1 while the backlog is older than its alarm", up, registry=r
        )

        self._frame_children: dict[tuple[str, str], Counter] = {}

    def frame(self, cn: str, status: str) -> Counter:
        """The labelled counter, cached: ``labels()`` costs microseconds on every frame."""
        child = self._frame_children.get((cn, status))
        if child is None:
            child = self._frame_children[(cn, status)] = self.frames.labels(cn, status)
        return child

    def render(self) -> bytes:
        return generate_latest(self.registry)


async def serve_http(
    host: str, port: int, metrics: Metrics, health: Callable[[], tuple[bool, dict[str, object]]]
) -> asyncio.Server:
    """A minimal HTTP/1.0 server: GET /metrics and GET /healthz (200, or 503 when unwell)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            path = request.split(b" ")[1] if request.count(b" ") >= 2 else b"/"
            if path == b"/metrics":
                status, ctype, body = b"200 OK", CONTENT_TYPE_LATEST.encode(), metrics.render()
            elif path == b"/healthz":
                ok, detail = health()
                status = b"200 OK" if ok else b"503 Service Unavailable"
                ctype, body = b"application/json", json.dumps(detail).encode()
            else:
                status, ctype, body = b"404 Not Found", b"text/plain", b"not found\n"
            writer.write(
                b"HTTP/1.0 "
                + status
                + b"\r\nContent-Type: "
                + ctype
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
