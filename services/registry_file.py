"""Registry files: read stations from CSV or TOML and check them, for
storage/stations.py to upsert.

A file is read whole; every bad line (CSV) or ``[[station]]`` table (TOML) becomes an
error naming its line, and the good ones are still imported (the command then exits 1
so that a script notices). A station's pollutant list in the file replaces the stored
one. Columns and the pollutant syntax are documented in README.md (Station registry).
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from config import regions
from protocol import BEIJING
from storage.stations import COLUMNS, Pollutant, Station

REQUIRED = ("mn", "name", "medium", "region_code")
MEDIA = ("gas", "water", "other")
VERSIONS = ("2005", "2017", "2025")
LEGACY_CRC = ("reject", "modbus", "swapped", "any")
MINUTE_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_MN = re.compile(r"^[0-9A-Za-z]{1,24}$")
_CODE = re.compile(r"^[A-Za-z0-9]{2,12}$")


class StationError(ValueError):
    """One bad station entry; the message says what is wrong with it."""


@dataclass
class Parsed:
    stations: list[Station] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line N: ..." each


def _float(name: str, value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise StationError(f"{name}: {value!r} is not a number")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StationError(f"{name}: {value!r} is not a number") from None


def _int(name: str, value: object, default: int) -> int:
    number = _float(name, value)
    if number is None:
        return default
    if number != int(number):
        raise StationError(f"{name}: {value!r} is not a whole number")
    return int(number)


def _bool(name: str, value: object, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "on"):
        return True
    if text in ("0", "false", "no", "n", "off"):
        return False
    raise StationError(f"{name}: {value!r} is not true/false")


def _since(value: object) -> datetime | None:
    """A date (Beijing midnight) or an ISO date-time (Beijing time unless it says)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime.combine(value, time())
    else:
        try:
            when = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise StationError(
                f"monitored_since: {value!r} is not a date (2026-09-01) or date-time"
            ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=BEIJING)


def _choice(name: str, value: object, choices: Iterable[str], default: str) -> str:
    text = default if value is None or value == "" else str(value).strip()
    if text not in choices:
        raise StationError(f"{name}: {text!r} is not one of {', '.join(choices)}")
    return text


def parse_pollutants(text: str) -> tuple[Pollutant, ...]:
    """``code [limit=X] [period=hour|day] [range=LO..HI] [unit=U] [assessed=no]; ...``."""
    out = []
    for item in text.split(";"):
        words = item.split()
        if not words:
            continue
        options: dict[str, object] = {}
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if not sep:
                raise StationError(f"pollutants: {word!r} in {item.strip()!r} is not key=value")
            if key == "range":
                low, dots, high = value.partition("..")
                if not dots:
                    raise StationError(f"pollutants: range {value!r} is not LOW..HIGH")
                options["range"] = [low, high]
            else:
                options[key] = value
        out.append(pollutant_of({"code": words[0], **options}))
    return tuple(out)


def pollutant_of(data: Mapping[str, object]) -> Pollutant:
    known = {"code", "limit", "period", "range", "unit", "assessed"}
    unknown = set(data) - known
    if unknown:
        raise StationError(f"pollutant: unknown keys {', '.join(sorted(unknown))}")
    code = str(data.get("code", "")).strip()
    if not _CODE.match(code):
        raise StationError(f"pollutant code {code!r} is not 2-12 letters/digits")
    low = high = None
    if (rng := data.get("range")) is not None:
        if not isinstance(rng, list | tuple) or len(rng) != 2:
            raise StationError(f"{code}: range must be [low, high]")
        low, high = _float(f"{code} range", rng[0]), _float(f"{code} range", rng[1])
        if low is not None and high is not None and low >= high:
            raise StationError(f"{code}: range low {low:g} is not below high {high:g}")
    period = data.get("period")
    return Pollutant(
        code=code,
        assessed=_bool(f"{code} assessed", data.get("assessed"), True),
        emission_limit=_float(f"{code} limit", data.get("limit")),
        limit_period=None
        if period in (None, "")
        else _choice("period", period, ("hour", "day"), ""),
        range_low=low,
        range_high=high,
        unit=None if data.get("unit") in (None, "") else str(data.get("unit")),
    )


def station_of(data: Mapping[str, object]) -> Station:
    """One checked station from a mapping of column -> value (CSV text or TOML values)."""
    unknown = set(data) - set(COLUMNS) - {"pollutant"}
    if unknown:
        raise StationError(f"unknown columns {', '.join(sorted(unknown))}")
    missing = [c for c in REQUIRED if data.get(c) in (None, "")]
    if missing:
        raise StationError(f"missing {', '.join(missing)}")
    mn = str(data["mn"]).strip()
    if not _MN.match(mn):
        raise StationError(f"mn {mn!r} is not 1-24 letters/digits (HJ 212-2017: 24 hex)")
    region = str(data["region_code"]).strip()
    if not re.fullmatch(r"[0-9]{6}", region):
        raise StationError(f"region_code {region!r} is not a 6-digit administrative code")
    if not regions.known(region):  # the maintained code list (config/regions.py)
        raise StationError(
            f"region_code {region} is not in the administrative-division code list"
            " (GB/T 2260 / 统计用区划代码): check the county code"
        )
    password = str(data.get("password") or "").strip()
    if not password:  # a device's PW is never assumed (it used to be 123456)
        raise StationError("password is empty: give the device's own PW (1-6 characters)")
    if not 1 <= len(password) <= 6:
        raise StationError(f"password must be 1-6 characters (HJ 212 PW), got {len(password)}")
    key = str(data.get("sm4_key") or "").strip() or None
    if key is not None and not re.fullmatch(r"[0-9A-Fa-f]{32}", key):
        raise StationError(  # the key itself is not repeated: it is a secret
            f"sm4_key must be 32 hex digits (SM4, 128 bits), got {len(key)} characters"
            + ("" if len(key) != 32 else " not all hex")
        )
    minute = _int("minute_interval_min", data.get("minute_interval_min"), 10)
    if minute not in MINUTE_INTERVALS:
        raise StationError(f"minute_interval_min {minute} is not one of {MINUTE_INTERVALS}")
    rt = _int("rt_interval_s", data.get("rt_interval_s"), 30)
    if not 1 <= rt <= 86400:
        raise StationError(f"rt_interval_s {rt} is out of 1..86400")
    o2 = _float("o2_ref", data.get("o2_ref"))
    if o2 is not None and not 0 <= o2 < 21:
        raise StationError(f"o2_ref {o2:g} is not a percentage below 21")
    pollutants = data.get("pollutants", data.get("pollutant"))
    if isinstance(pollutants, str):
        parsed = parse_pollutants(pollutants)
    elif isinstance(pollutants, list):
        parsed = tuple(pollutant_of(p) for p in pollutants if isinstance(p, Mapping))
    else:
        parsed = ()
    codes = [p.code for p in parsed]
    if len(set(codes)) != len(codes):
        raise StationError("a pollutant is listed twice")
    return Station(
        mn=mn,
        name=str(data["name"]).strip(),
        medium=_choice("medium", data.get("medium"), MEDIA, ""),
        region_code=region,
        password=password,
        enterprise=str(data.get("enterprise") or "").strip(),
        outlet=str(data.get("outlet") or "").strip(),
        protocol_version=_choice(
            "protocol_version", data.get("protocol_version"), VERSIONS, "2017"
        ),
        legacy_crc=_choice("legacy_crc", data.get("legacy_crc"), LEGACY_CRC, "reject"),
        rt_interval_s=rt,
        minute_interval_min=minute,
        o2_ref=o2,
        active=_bool("active", data.get("active"), True),
        monitored_since=_since(data.get("monitored_since")),
        pollutants=parsed,
        sm4_key=key,
    )


def parse_csv(text: str) -> Parsed:
    """A header line naming the columns, then one station per line."""
    out = Parsed()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = set(header) - set(COLUMNS)
    if not header or unknown:
        out.errors.append(f"line 1: unknown or missing header columns {sorted(unknown)}")
        return out
    reader.fieldnames = header
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        if None in row:  # more fields than the header has
            out.errors.append(f"line {line}: more fields than the header has")
            continue
        try:
            out.stations.append(station_of({k: v for k, v in row.items() if v is not None}))
        except StationError as exc:
            out.errors.append(f"line {line}: {exc}")
    return out


def parse_toml(text: str) -> Parsed:
    """``[[station]]`` tables; pollutants as ``[[station.pollutant]]`` or a string."""
    out = Parsed()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.errors.append(str(exc))  # it names the line and column
        return out
    lines = [n for n, s in enumerate(text.splitlines(), 1) if s.strip() == "[[station]]"]
    unknown = set(data) - {"station"}
    if unknown:
        out.errors.append(f"unknown top-level keys {', '.join(sorted(unknown))}")
    for index, entry in enumerate(data.get("station", [])):
        where = f"line {lines[index]}" if index < len(lines) else f"station #{index + 1}"
        try:
            out.stations.append(station_of(entry))
        except StationError as exc:
            out.errors.append(f"{where}: {exc}")
    return out


def parse_file(path: Path) -> Parsed:
    text = path.read_text("utf-8-sig")
    return parse_toml(text) if path.suffix.lower() == ".toml" else parse_csv(text)


def format_pollutants(pollutants: Iterable[Pollutant]) -> str:
    """The CSV ``pollutants`` text of a list (what parse_pollutants reads back)."""
    items = []
    for p in pollutants:
        words = [p.code]
        if p.emission_limit is not None:
            words.append(f"limit={p.emission_limit:g}")
        if p.limit_period:
            words.append(f"period={p.limit_period}")
        if p.range_low is not None and p.range_high is not None:
            words.append(f"range={p.range_low:g}..{p.range_high:g}")
        if p.unit:
            words.append(f"unit={p.unit}")
        if not p.assessed:
            words.append("assessed=no")
        items.append(" ".join(words))
    return "; ".join(items)
