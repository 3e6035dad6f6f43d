"""Every ``docs/<file>.md §N`` citation names a heading that exists (docs/README.md).

The docs number their headings (``## 1. Effective transmission rate``, ``### 1.3 Marks
...``); ``docs/regulations.md §1.3`` names the heading numbered 1.3, and ``§1.3, §2.5``
after one file name cites two of its headings. Code, tests, SQL, templates, README,
AGENTS.md, rules/README.md, benchmarks/RESULTS.md and docs/ itself are read.

The old form (``regulations.md §x``, ``hj212.md``, ``performance.md``, ``house-style.md``
without ``docs/``: the team's notes, not in the repository) is refused everywhere but in
applied migrations, which may not be edited (storage/migrate.py checks their SHA-256);
docs/README.md maps those few citations to their new places.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {".py", ".sql", ".md", ".toml", ".js", ".html", ".css", ".sh", ".txt", ".tsv"}
SKIP = {".git", ".venv", "var", "node_modules", "__pycache__", "build", "dist"}
SECTION = r"§\s*(\d+(?:\.\d+)*)"
# ``docs/x.md §1.3``, ``docs/x.md` §12``, ``docs/x.md (§0``, then ``, §2.5 and §3``
CITATION = re.compile(
    r"docs/([\w-]+\.md)`?\s*\(?\s*" + SECTION + r"((?:\s*(?:,|;|and|or|/)\s*§\s*\d+(?:\.\d+)*)*)"
)
MORE = re.compile(SECTION)
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
OLD = re.compile(r"(?<![\w/])(?:shared/notes/)?(regulations|hj212|performance|house-style)\.md")


def headings(doc: str) -> set[str]:
    """The section numbers a doc's headings carry (``1``, ``1.3``, ...)."""
    return set(HEADING.findall(doc))


def citations(text: str) -> Iterator[tuple[str, str]]:
    """(file, section) for every ``docs/<file>.md §N`` in ``text``."""
    for match in CITATION.finditer(text):
        yield match[1], match[2]
        for extra in MORE.findall(match[3]):
            yield match[1], extra


def _files(root: Path = ROOT) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(p in SKIP or p.endswith(".egg-info") for p in parts[:-1]):
            continue
        if path == Path(__file__).resolve():
            continue  # its examples are not citations
        if path.is_file() and (path.suffix in SUFFIXES or path.name in {"dev", "Makefile"}):
            yield path


def unresolved(root: Path = ROOT) -> tuple[int, list[str]]:
    """How many citations the tree holds, and the ones naming no heading."""
    docs = {p.name: headings(p.read_text("utf-8")) for p in (root / "docs").glob("*.md")}
    found, seen = [], 0
    for path in _files(root):
        text = path.read_text("utf-8", errors="replace")
        for line_no, line in enumerate(text.splitlines(), 1):
            for doc, section in citations(line):
                seen += 1
                if section not in docs.get(doc, set()):
                    found.append(f"{path.relative_to(root)}:{line_no}: docs/{doc} §{section}")
    return seen, found


def test_every_docs_citation_names_a_heading() -> None:
    seen, found = unresolved()
    assert seen >= 50, "too few citations found: is the pattern right?"
    assert found == []


def test_no_old_style_citation_is_left() -> None:
    found = []
    for path in _files():
        parts = path.relative_to(ROOT).parts
        if parts[0] == "docs":
            continue  # docs/README.md maps the old forms to the new on purpose
        if parts[:2] == ("storage", "migrations") and path.suffix == ".sql":
            continue  # applied migrations are never edited
        for line_no, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{line_no}: {m[0]}" for m in OLD.finditer(line)]
    assert found == []


def test_headings_and_citations_are_read_as_the_docs_write_them() -> None:
    doc = "# T\n## 0. Tags\n## 1. Rate\n### 1.3 Marks (标记)\n## 12. Seeds\n#### 12.1.4 x\n"
    assert headings(doc) == {"0", "1", "1.3", "12", "12.1.4"}
    text = "see docs/regulations.md §1.3, §2.5 and §12; `docs/protocol.md` §6 (docs/x.md (§0)"
    assert list(citations(text)) == [
        ("regulations.md", "1.3"),
        ("regulations.md", "2.5"),
        ("regulations.md", "12"),
        ("protocol.md", "6"),
        ("x.md", "0"),
    ]
    assert list(citations("regulations.md §1.3 and docs/protocol.md §X")) == []
    assert OLD.search("(regulations.md §1.3)") is not None
    assert OLD.search("docs/regulations.md §1.3") is None


def test_a_missing_heading_or_doc_is_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n## 1. One\n### 1.2 Two\n", "utf-8")
    (tmp_path / "m.py").write_text("# docs/a.md §1.2, §1.3\n# docs/b.md §1\n", "utf-8")
    (tmp_path / "q.sql").write_text("-- docs/a.md §1 (ok)\n", "utf-8")
    assert unresolved(tmp_path) == (4, ["m.py:1: docs/a.md §1.3", "m.py:2: docs/b.md §1"])
