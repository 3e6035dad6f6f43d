"""Schema-driven: every operation of the OpenAPI description, called with generated
requests (a few examples each), must answer as described and never with a 5xx."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def token(dsn: str, world: dict[str, str]) -> str:
    from storage import api_tokens

    value = "t_" + uuid.uuid4().hex
    with psycopg.connect(dsn) as conn:
        # an inspector: may read everything in Hubei, changes are refused (403, described)
        api_tokens.add(conn, f"yichang{world['tag']}", value)
    return value


def test_every_operation_answers_as_described(console_url: str, token: str) -> None:
    schema = schemathesis.openapi.from_url(console_url + "/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    checked = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        # Hypothesis drives each operation itself: a few generated requests apiece.
        @given(case=operation.as_strategy())
        @settings(
            max_examples=4,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers)

        check()
        checked.append(operation.label)
    assert len(checked) >= 20
