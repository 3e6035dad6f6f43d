"""Shape checks for the Appendix C test vectors in ``tests/data`` (see tests/data/README.md).

Only the layout of the TSV files is checked here; decoding assertions belong to the codec tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = ["table", "step", "sender", "segment", "cn", "notes"]
SENDERS = {"platform", "station"}
FILES = {
    "2017": DATA / "appendix_c_2017.tsv",
    "2005": DATA / "appendix_c_2005.tsv",
}
# 2017 tables are C.1 … C.50; the 2005 examples are numbered 1 … 23 and example 6 has
# three variants, labelled C.6a, C.6b, C.6c.
TABLE_RE = {
    "2017": re.compile(r"C\.(\d+)"),
    "2005": re.compile(r"C\.(\d+)([a-z]?)"),
}
SEGMENT_START = {"2017": ("QN=",), "2005": ("QN=", "ST=")}


@dataclass(frozen=True)
class Row:
    lineno: int
    table: str
    step: str
    sender: str
    segment: str
    cn: str
    notes: str


def read_rows(path: Path) -> list[Row]:
    raw = path.read_bytes()
    assert b"\r" not in raw, f"{path.name}: CR characters (file must use LF line ends)"
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == "", f"{path.name}: missing final newline"
    assert lines[0].split("\t") == HEADER, f"{path.name}: bad header {lines[0]!r}"
    rows = []
    for lineno, line in enumerate(lines[1:-1], start=2):
        fields = line.split("\t")
        assert len(fields) == len(HEADER), f"{path.name}:{lineno}: {len(fields)} columns"
        rows.append(Row(lineno, *fields))
    assert rows, f"{path.name}: no rows"
    return rows


@pytest.fixture(scope="module", params=sorted(FILES), ids=lambda year: f"hj212-{year}")
def vectors(request: pytest.FixtureRequest) -> tuple[str, list[Row]]:
    year: str = request.param
    return year, read_rows(FILES[year])


def test_segment_shape(vectors: tuple[str, list[Row]]) -> None:
    year, rows = vectors
    for row in rows:
        where = f"{year} line {row.lineno} ({row.table} step {row.step})"
        seg = row.segment
        assert seg.startswith(SEGMENT_START[year]), where
        assert "CN=" in seg, where
        assert "CP=&&" in seg, where
        assert seg.endswith("&&"), where
        assert seg.index("CP=&&") + len("CP=&&") <= len(seg) - 2, f"{where}: CP not closed"
        assert not any(c in seg for c in "\t\n\r"), where
        assert "##" not in seg, f"{where}: frame header left in the segment"
        assert "…" not in seg, f"{where}: ellipsis left in the segment"


def test_cn_column_matches_segment(vectors: tuple[str, list[Row]]) -> None:
    year, rows = vectors
    for row in rows:
        header = row.segment[: row.segment.index("CP=&&")]
        found = re.findall(r"(?:^|[;,])CN=(\d{4})(?=[;,])", header)
        assert found == [row.cn], f"{year} line {row.lineno}: cn={row.cn!r}, header has {found}"


def test_sender_values(vectors: tuple[str, list[Row]]) -> None:
    year, rows = vectors
    for row in rows:
        assert row.sender in SENDERS, f"{year} line {row.lineno}: sender {row.sender!r}"


def test_tables_numbered_consecutively(vectors: tuple[str, list[Row]]) -> None:
    year, rows = vectors
    tables: list[str] = []
    for row in rows:
        if not tables or tables[-1] != row.table:
            assert row.table not in tables, f"{year}: {row.table} appears in two places"
            tables.append(row.table)
    keys: list[tuple[int, str]] = []
    for table in tables:
        m = TABLE_RE[year].fullmatch(table)
        assert m is not None, f"{year}: bad table label {table!r}"
        number = int(m.group(1))
        groups = m.groups()
        suffix = groups[1] if len(groups) > 1 else ""
        keys.append((number, suffix))
    assert keys[0] in {(1, ""), (1, "a")}, f"{year}: first table is {tables[0]}"
    for (prev_n, prev_s), (n, s), label in zip(keys, keys[1:], tables[1:], strict=False):
        if n == prev_n:
            assert prev_s, f"{year}: {label} repeats C.{prev_n}"
            assert s == chr(ord(prev_s) + 1), f"{year}: {label} after C.{prev_n}{prev_s}"
        else:
            assert n == prev_n + 1, f"{year}: {label} follows C.{prev_n}{prev_s}"
            assert s in {"", "a"}, f"{year}: {label} does not start at variant a"


def test_steps_numbered_consecutively(vectors: tuple[str, list[Row]]) -> None:
    year, rows = vectors
    steps: dict[str, list[str]] = {}
    for row in rows:
        steps.setdefault(row.table, []).append(row.step)
    for table, found in steps.items():
        expected = [str(i) for i in range(1, len(found) + 1)]
        assert found == expected, f"{year} {table}: steps {found}"
        assert len(found) >= 2, f"{year} {table}: a single frame is not an exchange"


def test_2017_covers_tables_c1_to_c50() -> None:
    tables = {row.table for row in read_rows(FILES["2017"])}
    assert tables == {f"C.{i}" for i in range(1, 51)}
