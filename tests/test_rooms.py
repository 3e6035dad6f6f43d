"""One room for each job (issue 16, "Done when"): SQL is written only in ``storage/``, and
``storage/`` does nothing but SQL (no task groups, HTTP, subprocesses, file copying or
TOML reading: those belong to services/, ops/ and config/; docs/architecture.md §1, §4).

The SQL detector reads string literals with :mod:`ast` (constants, f-strings with their
holes as ``{}``, and ``+`` chains of strings), strips leading SQL comments, and asks
whether the text *is* a statement: a keyword alone is not enough ("Show the stations",
"Set the clock" are prose), the keyword has to be followed by the shape of its statement
(``SELECT ... FROM table``, ``INSERT INTO table (``, ``UPDATE t SET c =``, ...). A
keyword written in capitals (``SHOW server_version``, ``VACUUM hj212.frame``) is taken
at its word with less shape, since prose does not shout its first word. A text is read
whole, line by line and by its quoted parts, so the ``psql -c '...'`` of a hint counts.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_layering import top_level_packages

ROOT = Path(__file__).resolve().parent.parent
# Not project code, or the two rooms the walk leaves out on purpose.
SKIP_DIRS = {"storage", "tests", "var", "build", "dist", "node_modules", "__pycache__"}


_NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*|\{\})'
IDENT = rf"{_NAME}(?:\.{_NAME})*"
# what may follow a table name in FROM / DELETE FROM / TRUNCATE
_AFTER_TABLE = (
    r"(?:\s*(?:$|[,;()])|\s+(?:AS\s+)?(?:\w+\s+)?(?:WHERE|JOIN|LEFT|RIGHT|INNER|FULL|CROSS"
    r"|NATURAL|ON|USING|ORDER|GROUP|LIMIT|OFFSET|UNION|EXCEPT|INTERSECT|HAVING|WINDOW|FOR"
    r"|TABLESAMPLE|RETURNING|LATERAL)\b)"
)
# what may follow an object's name in CREATE / DROP / ALTER
_AFTER_OBJECT = (
    r"(?:\s*(?:$|[;(])|\s+(?:ON|AS|WITH|OWNER|TEMPLATE|LOGIN|NOLOGIN|IN|PASSWORD|SUPERUSER"
    r"|NOSUPERUSER|CASCADE|RESTRICT|USING|INHERITS|PARTITION|FROM|FOR|RETURNS|SET|RESET"
    r"|RENAME|ADD|DROP|ALTER|TO|OWNED|VERSION|SCHEMA|BEFORE|AFTER|INSTEAD|ENCODING|LOCALE"
    r"|TABLESPACE|VALUES|NOT|DEFAULT|ENABLE|DISABLE|CONNECTION|ATTACH|DETACH|INCLUDE)\b)"
)
_OBJECT = (
    r"(?:TABLE|DATABASE|INDEX|EXTENSION|ROLE|USER|SCHEMA|VIEW|MATERIALIZED\s+VIEW|FUNCTION"
    r"|PROCEDURE|TRIGGER|TYPE|SEQUENCE|POLICY|PUBLICATION|SUBSCRIPTION|DOMAIN|RULE"
    r"|AGGREGATE|TABLESPACE|SERVER|CAST|OPERATOR|COLLATION)"
)
# a setting's name as SQL writes it (statement_timeout, hj212.actor), or a quoted one
_SETTING = r'(?:"[^"]+"|\w+[_.][\w.]+|\{\})'
_VALUE = r"(?:'|\d|%s|%\(\w+\)s|\$\d|\{\}|DEFAULT\b|LOCAL\b)"
# any case: the statement's shape says it is SQL
SHAPES = [
    (
        r"SELECT\s+(?:DISTINCT\s+)?(?:[\w.]+\(|\*|\d+\b|%s|%\(\w+\)s|\$\d|'|\{\}"
        rf"|.+?\bFROM\s+(?:ONLY\s+)?{IDENT}{_AFTER_TABLE})"
    ),
    rf"WITH\s+(?:RECURSIVE\s+)?{IDENT}\s*(?:\([^)]*\)\s*)?AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(",
    (
        rf"INSERT\s+INTO\s+{IDENT}(?:\s+AS\s+\w+)?\s*"
        r"(?:\(|$|;|(?:VALUES|SELECT|DEFAULT|OVERRIDING|WITH)\b)"
    ),
    rf"UPDATE\s+(?:ONLY\s+)?{IDENT}(?:\s+(?:AS\s+)?\w+)?\s+SET\s+(?:{IDENT}\s*=|\()",
    rf"DELETE\s+FROM\s+(?:ONLY\s+)?{IDENT}{_AFTER_TABLE}",
    rf"MERGE\s+INTO\s+{IDENT}",
    (
        r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED|UNIQUE|CONSTRAINT)\s+)*"
        rf"{_OBJECT}\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:CONCURRENTLY\s+)?(?:ON\s+)?"
        rf"{IDENT}{_AFTER_OBJECT}"
    ),
    (
        rf"DROP\s+(?:{_OBJECT}|OWNED)\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?"
        rf"{IDENT}{_AFTER_OBJECT}"
    ),
    rf"ALTER\s+{_OBJECT}\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{IDENT}{_AFTER_OBJECT}",
    r"ALTER\s+(?:SYSTEM\s+(?:SET|RESET)|DEFAULT\s+PRIVILEGES)\s+\w+",
    rf"COPY\s+{IDENT}\s*(?:\([^)]*\)\s*)?(?:FROM|TO)\s+(?:STDIN|STDOUT|PROGRAM|')",
    r"COPY\s*\(\s*(?:SELECT|WITH|VALUES)\b",
    (
        rf"TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?{IDENT}"
        r"\s*(?:$|[,;]|\s+(?:RESTART|CONTINUE|CASCADE|RESTRICT)\b)"
    ),
    (
        r"(?:GRANT|REVOKE)\s+(?:GRANT\s+OPTION\s+FOR\s+)?(?:ALL|SELECT|INSERT|UPDATE|DELETE"
        r"|USAGE|EXECUTE|CONNECT|TRUNCATE|REFERENCES|TRIGGER|CREATE|TEMP\w*)\b[\w\s,()]*?\s+ON\s"
    ),
    rf"(?:LISTEN|UNLISTEN|NOTIFY)\s+{_SETTING}\s*(?:$|;|,\s*')",
    (
        r"SET\s+(?:SESSION\s+|LOCAL\s+)?(?:TRANSACTION\b|SESSION\s+CHARACTERISTICS|ROLE\s"
        rf"|TIME\s+ZONE\s|CONSTRAINTS\s|{_SETTING}\s*(?:=|\bTO\b)"
        rf"|{IDENT}\s*(?:=|\bTO\b)\s*{_VALUE})"
    ),
    rf"(?:SHOW|RESET)\s+{_SETTING}\s*;?\s*$",
    r"(?:BEGIN|START)\s+(?:TRANSACTION|WORK|ISOLATION\s+LEVEL|READ\s+(?:ONLY|WRITE))\b",
    r"(?:COMMIT|ROLLBACK|ABORT|END)\s+(?:WORK|TRANSACTION|PREPARED)\b",
    r"(?:CHECKPOINT|ANALYZE|VACUUM|COMMIT|ROLLBACK|BEGIN)\s*;\s*$",
    (
        r"(?:ANALYZE|VACUUM)\s+(?:\([^)]*\)\s*|(?:FULL|FREEZE|VERBOSE|ANALYZE)\s+)*"
        rf"{_SETTING}(?:\s*\([^)]*\))?\s*;?\s*$"
    ),
    r"VACUUM\s*\(",
    r"DO\s+(?:LANGUAGE\s+\w+\s+)?(?:\$\w*\$|')",
    r"EXPLAIN\s+(?:\([^)]*\)\s*|ANALYZE\s+|VERBOSE\s+)*(?:SELECT|WITH|INSERT|UPDATE|DELETE)\b",
    rf"LOCK\s+(?:TABLE\s+)?(?:ONLY\s+)?{IDENT}\s+IN\s+[\w\s]+MODE",
    rf"CALL\s+{IDENT}\s*\(",
    r"REFRESH\s+MATERIALIZED\s+VIEW\s",
    r"REINDEX\s+(?:\([^)]*\)\s*)?(?:TABLE|INDEX|DATABASE|SCHEMA|SYSTEM)\s",
    rf"COMMENT\s+ON\s+(?:{_OBJECT}|COLUMN)\s",
    rf"(?:SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT)\s+{IDENT}\s*;?\s*$",
]
# capitals: the keyword alone, or followed by a name (prose does not shout its first word)
SHOUTED = [
    r"(?:CHECKPOINT|ANALYZE|VACUUM|BEGIN|COMMIT|ROLLBACK|DISCARD\s+ALL)\s*$",
    rf"(?:SHOW|RESET|LISTEN|UNLISTEN|NOTIFY|ANALYZE|VACUUM|TRUNCATE)\s+{IDENT}\s*(?:$|;|,\s*')",
    (
        r"(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER|COPY|GRANT|REVOKE|SET)\s+"
        rf"(?!(?i:A|AN|THE|IT|IS|TO|OF|OR|AND|NOT|ME|UP|ALL)\b){IDENT}\s+\S"
    ),
]
_SHAPE = re.compile("|".join(f"(?:{p})" for p in SHAPES), re.IGNORECASE | re.DOTALL)
_SHOUT = re.compile("|".join(f"(?:{p})" for p in SHOUTED), re.DOTALL)
_COMMENTS = re.compile(r"\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/)", re.DOTALL)


# a statement quoted inside a text: ``psql -c 'SELECT ...'`` in a hint
_QUOTED = re.compile(r"""(?:^|(?<=[\s=(\[]))(['"`])([^'"`\n]+?)\1""")


def _is_statement(text: str) -> bool:
    start = 0
    while found := _COMMENTS.match(text, start):
        if found.end() == start:
            break
        start = found.end()
    body = text[start:].lstrip()
    return bool(_SHAPE.match(body) or _SHOUT.match(body))


def looks_like_sql(text: str) -> bool:
    """Whether ``text`` is an SQL statement, or has one on a line of its own or quoted
    in it (see the module docstring)."""
    candidates = [text, *text.splitlines()[1:]]
    candidates += [m.group(2) for m in _QUOTED.finditer(text)]
    return any(_is_statement(c) for c in candidates)


def _render(node: ast.expr) -> str | None:
    """The text of a string expression, holes as ``{}``; None if it is not one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        value = node.value
        return value.decode("latin-1") if isinstance(value, bytes) else value
    if isinstance(node, ast.JoinedStr):
        return "".join(_render(part) or "{}" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _render(node.left), _render(node.right)
        if left is None and right is None:
            return None
        return (left or "{}") + (right or "{}")
    return None


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string expression once: the parts of an f-string or of a ``+`` chain are
    read as the whole they make."""
    parts: set[int] = set()
    for node in ast.walk(tree):  # breadth first: a whole before its parts
        if id(node) in parts or not isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp):
            continue
        text = _render(node)
        if text is None:
            continue
        parts |= {id(child) for child in ast.walk(node) if child is not node}
        yield node.lineno, text


def sql_in(source: str, filename: str = "<src>") -> list[str]:
    """``file:line: text`` for every string literal of a module that is SQL."""
    hits = {
        f"{filename}:{line}: {text.strip()[:60]!r}"
        for line, text in _strings(ast.parse(source, filename))
        if looks_like_sql(text)
    }
    return sorted(hits)


def python_files(skip: set[str]) -> Iterator[Path]:
    """Every project ``.py`` file, pruning hidden folders, build artefacts and ``skip``."""
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not d.endswith(".egg-info")
            and not (here == ROOT and d in skip)
            and d not in {"__pycache__", "node_modules"}
        )
        yield from (here / f for f in sorted(files) if f.endswith(".py"))


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_sql_statement_outside_storage() -> None:
    found: dict[str, list[str]] = {}
    checked = 0
    for path in python_files(SKIP_DIRS):
        name = _relative(path)
        checked += 1
        hits = sql_in(path.read_text("utf-8"), name)
        if hits:
            found[name] = hits
    assert checked >= 60, "the walk found too few modules: is the tree where we think?"
    assert found == {}


def test_the_walk_reaches_every_package_but_storage_and_tests() -> None:
    walked = {_relative(p).split("/")[0] for p in python_files(SKIP_DIRS)}
    packages = {p for p in top_level_packages() if (ROOT / p).is_dir()}
    assert packages - {"storage", "tests"} <= walked
    assert walked & {"storage", "tests", ".venv", "var"} == set()


# storage/ speaks SQL only: these imports mean concurrency, HTTP, processes, file
# copying or configuration files, which live in services/, ops/ and config/
NOT_IN_STORAGE = {
    "anyio",
    "trio",
    "http",
    "urllib",
    "urllib3",
    "httpx",
    "requests",
    "aiohttp",
    "subprocess",
    "shutil",
    "tomllib",
    "tomli",
}
TASK_GROUPS = {"create_task_group", "TaskGroup"}


def storage_violations(source: str, filename: str = "<src>") -> list[str]:
    """Every import (or use) in a storage module of what storage does not do."""
    found = set()
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        found |= {
            f"{where}: imports {n}"
            for n in names
            if n.split(".")[0] in NOT_IN_STORAGE or n.split(".")[-1] in TASK_GROUPS
        }
        if isinstance(node, ast.Attribute) and node.attr in TASK_GROUPS:
            found.add(f"{where}: uses a task group (.{node.attr})")
    return sorted(found)


def test_storage_does_nothing_but_sql() -> None:
    found: dict[str, list[str]] = {}
    storage = ROOT / "storage"
    for path in sorted(storage.rglob("*.py")):
        hits = storage_violations(path.read_text("utf-8"), _relative(path))
        if hits:
            found[_relative(path)] = hits
    assert len(list(storage.rglob("*.py"))) >= 10, "is storage/ where we think?"
    assert found == {}


SQL = [
    "SELECT count(*) FROM hj212.measurement",
    "select mn from hj212.station where region_code = %s",
    "SELECT 1 FROM pg_database WHERE datname = %s",
    "SELECT set_config('hj212.actor', %s, false)",
    "\n    SELECT a.mn,\n           b.name\n      FROM hj212.station a\n      JOIN x b ON true\n",
    "SELECT mn FROM stations",
    "-- the newest first\nSELECT * FROM t ORDER BY at DESC",
    "/* hint */ select max(at) from hj212.frame",
    "WITH last AS (SELECT 1) SELECT * FROM last",
    "with recursive t(n) as (select 1) select n from t",
    "INSERT INTO hj212.alarm (key, mn) VALUES (%s, %s)",
    "insert into hj212.case values (%s)",
    "UPDATE hj212.station SET created_at = %s",
    "update station s set name = %s where mn = %s",
    "DELETE FROM hj212.frame WHERE id = %s",
    "delete from hj212.frame",
    "CREATE DATABASE hj212_load",
    'CREATE DATABASE "{name}"',
    "CREATE UNIQUE INDEX measurement_record ON hj212.measurement (mn, cn)",
    "create table if not exists hj212.x (id int)",
    "CREATE EXTENSION IF NOT EXISTS timescaledb",
    "CREATE ROLE gateway LOGIN PASSWORD 'x' IN ROLE hj212_app",
    'DROP DATABASE IF EXISTS "x" WITH (FORCE)',
    "DROP INDEX hj212.measurement_record",
    "drop table hj212.x cascade",
    "ALTER TABLE hj212.frame ADD COLUMN x int",
    "ALTER SYSTEM SET work_mem = '64MB'",
    "COPY hj212.measurement (data_time, mn) FROM STDIN (FORMAT BINARY)",
    "copy hj212.chain_head from stdin",
    "COPY (SELECT * FROM t) TO STDOUT",
    "TRUNCATE hj212.frame",
    "truncate table frame restart identity",
    "GRANT SELECT, INSERT ON hj212.frame TO hj212_app",
    "revoke update on hj212.frame from public",
    "LISTEN hj212_commands",
    "NOTIFY hj212_rules, 'x'",
    "listen hj212_commands",
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "set statement_timeout = 0",
    "SET LOCAL lock_timeout TO '1s'",
    "set role hj212_app",
    "SHOW server_version",
    "show timescaledb.license",
    "SHOW ALL",
    "CHECKPOINT",
    "checkpoint;",
    "ANALYZE",
    "ANALYZE hj212.measurement",
    "vacuum (analyze) hj212.frame",
    "VACUUM FULL hj212.frame",
    "BEGIN",
    "begin transaction isolation level serializable",
    "COMMIT",
    "DO $$ BEGIN PERFORM 1; END $$",
    "EXPLAIN ANALYZE SELECT 1",
    "LOCK TABLE hj212.frame IN ACCESS EXCLUSIVE MODE",
    "SELECT pg_advisory_lock(%s)",
    "SELECT * FROM {}",
    "SELECT\n    mn\nFROM hj212.station",
    "INSERT INTO hj212.x SELECT * FROM hj212.y",
    "update hj212.station set created_at = now()",
    'psql "$DSN" -c "DELETE FROM hj212.alarm"',
    "Run this in psql:\n  SELECT count(*) FROM hj212.frame;",
]
PROSE = [
    "Show the stations",
    "Show stations",
    "Set the clock",
    "Set the clock to the server's time",
    "Select the stations from the list",
    "Select a station from the list.",
    "Select stations from the map, then press OK",
    "Update the registry, then restart",
    "Update the station set",
    "Insert into the archive what the station sent",
    "Delete from the list",
    "Create a database for the tests",
    "Create database and roles",
    "Drop the database afterwards",
    "Alter the table of rules",
    "Copy the file to the spool",
    "Copy files to the evidence folder",
    "Truncate the text",
    "Truncate long names.",
    "Grant the role to users",
    "Listen on 127.0.0.1",
    "Listen carefully",
    "Notify the operator",
    "With the gateway stopped, the spool drains",
    "With it as a guide (see below)",
    "Begin the day",
    "Commit the batch",
    "commit",
    "analyze",
    "Checkpoint the chain",
    "Vacuum the floor",
    "Do not edit: generated",
    "DO NOT EDIT",
    "UPDATE: the fix",
    "SELECT THE STATION",
    "select",
    "select.epoll",
    "COPY",
    "raw COPY {} rows/s",
    "SELECT a station",
    "hj212 db up; psql $DSN",
    "2051",
    "",
    "Selected stations from 3 cities",
    "Set up the console",
    "select which stations to show",
    "With --append, add it to RESULTS.md",
    "Listen to the gateway",
    "show",
    "Run this first:\n  Select the station from the list, then the day.",
]


@pytest.mark.parametrize("text", SQL)
def test_the_sql_detector_catches_a_statement(text: str) -> None:
    assert looks_like_sql(text), text


@pytest.mark.parametrize("text", PROSE)
def test_the_sql_detector_lets_prose_be(text: str) -> None:
    assert not looks_like_sql(text), text


@pytest.mark.parametrize(
    "source",
    [
        'q = "SELECT count(*) FROM hj212.frame"',
        'conn.execute(f"DROP DATABASE IF EXISTS {name!r} WITH (FORCE)".encode())',
        'q = f"SELECT {cols} FROM {table} WHERE mn = %s"',
        'q = "SELECT " + cols + " FROM hj212.station WHERE x"',
        'q = b"CHECKPOINT"',
        'q = ("COPY hj212.measurement (mn, cn)"\n     " FROM STDIN (FORMAT BINARY)")',
        'def f():\n    """Docstring."""\n    return "UPDATE hj212.station SET x = 1"',
    ],
)
def test_the_sql_walk_reads_every_kind_of_literal(source: str) -> None:
    assert sql_in(source) != []


def test_the_sql_walk_lets_docstrings_and_labels_be() -> None:
    source = (
        'def show():\n    """Show the stations; set the clock."""\n'
        '    print(f"Select a station from the list of {n}")\n'
        '    return "Copy the file to the spool" + name\n'
    )
    assert sql_in(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "import anyio",
        "from anyio import create_task_group",
        "import asyncio\nasync def f():\n    async with asyncio.TaskGroup() as tg: ...",
        "from asyncio import TaskGroup",
        "import http.client",
        "from urllib.parse import quote",
        "import urllib.request",
        "import httpx",
        "import requests",
        "from aiohttp import ClientSession",
        "import subprocess",
        "from shutil import copyfile",
        "import tomllib",
    ],
)
def test_the_storage_check_catches_a_stranger(source: str) -> None:
    assert storage_violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio\nasync def f(q):\n    await asyncio.wait_for(q.get(), 1)",
        "import psycopg\nfrom psycopg import sql",
        "from psycopg_pool import ConnectionPool",
        "from datetime import datetime\nimport json\nimport hashlib",
        "from importlib import resources",
    ],
)
def test_the_storage_check_accepts_sql_work(source: str) -> None:
    assert storage_violations(source) == []
