"""The upstreams this platform forwards to (docs/forwarding.md §4): what each has been
sent, what waits for it and how far behind it is. A platform-wide view: regulators
whose jurisdiction is the whole platform (no region prefix) and administrators see it;
enterprise users do not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException

from console.auth import CAN_ADMIN
from console.deps import DB, ERRORS, UserDep
from storage import upstream_queue

router = APIRouter(prefix="/api", responses=ERRORS)


@router.get("/upstreams", summary="Forwarding upstream: delivered, backlog, lag, failures")
def upstreams(conn: DB, user: UserDep) -> list[dict[str, Any]]:
    if user.role == "enterprise" or (user.role not in CAN_ADMIN and user.region_prefix):
        raise HTTPException(403, "the upstreams are shown to the platform's regulators")
    now = datetime.now(UTC)
    out = []
    for row in upstream_queue.status_sync(conn):
        oldest = row["oldest"]
        lag = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
        out.append(
            {
                **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()},
                "lag_s": round(max(0.0, lag), 1),
                "behind": row["behind_since"] is not None,
            }
        )
    return out
