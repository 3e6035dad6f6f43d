"""The names of the code tables (protocol/codes.py) say what the tables say."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from protocol import codes
from protocol.codes import COMMANDS, Cn, Deviation, Flow, Reject

ROOT = Path(__file__).resolve().parents[2]


def _constants(cls: type) -> dict[str, str]:
    return {k: v for k, v in vars(cls).items() if k.isupper()}


def test_every_command_has_one_name_and_every_name_a_command() -> None:
    names = _constants(Cn)
    assert sorted(names.values()) == sorted(COMMANDS)
    assert len(set(names.values())) == len(names)
    assert all(type(v) is str for v in names.values())  # plain text, as on the wire


def test_the_groups_follow_the_table() -> None:
    assert sorted(codes.REPLY_CODES) == ["9011", "9012", "9013", "9014"]
    assert sorted(codes.PLATFORM_ANSWERS_9013) == ["1013", "1014", "2072", "9015"]
    assert sorted(codes.STATION_ANSWERS_9013) == ["1014", "2012", "2022"]
    assert codes.MEASUREMENT_CODES <= codes.UPLOAD_CODES <= set(COMMANDS)
    assert codes.HISTORY_CODES <= codes.REQUEST_CODES
    for cn in codes.REQUEST_CODES:
        assert COMMANDS[cn].flow is Flow.REQUEST
        assert COMMANDS[cn].answer == "9011"
    for cn in codes.PLATFORM_ANSWERS_9013 | codes.STATION_ANSWERS_9013:
        assert COMMANDS[cn].answer == "9013"


def test_the_reject_codes_are_the_ones_the_codec_gives() -> None:
    """Every code the codec raises or files garbage under has its name, and no more."""
    used: set[str] = set()
    for path in sorted((ROOT / "protocol").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[1] if name == "Garbage" and node.args[1:] else node.args[0]
            if name in {"RemoteProtocolError", "Garbage"}:
                assert isinstance(first, ast.Attribute), f"{path.name}:{node.lineno}: a bare code"
                used.add(first.attr)
    assert used == set(_constants(Reject))


@pytest.mark.parametrize("cls", [Reject, Deviation])
def test_names_are_unique_text(cls: type) -> None:
    values = list(_constants(cls).values())
    assert len(values) == len(set(values))
    assert all(v == v.lower() and " " not in v for v in values)
