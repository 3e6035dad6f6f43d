"""The station registry: read stations from CSV or TOML, check them, upsert them, and
read them back: :func:`list_stations` (and its async twin for the gateway) is the one
reader of ``hj212.station``; each layer makes its own view of a :class:`Station` from it.

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
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import TupleRow

Row = tuple[Any, ...]

from protocol import BEIJING

COLUMNS = (
    "mn",
    "password",
    "sm4_key",
    "name",
    "enterprise",
    "outlet",
    "medium",
    "region_code",
    "protocol_version",
    "legacy_crc",
    "rt_interval_s",
    "minute_interval_min",
    "o2_ref",
    "active",
    "monitored_since",
    "pollutants",
)
REQUIRED = ("mn", "name", "medium", "region_code")
SECRETS = ("password", "sm4_key")  # imported, never listed
MEDIA = ("gas", "water", "other")
VERSIONS = ("2005", "2017", "2025")
LEGACY_CRC = ("reject", "modbus", "swapped", "any")
MINUTE_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_MN = re.compile(r"^[0-9A-Za-z]{1,24}$")
_CODE = re.compile(r"^[A-Za-z0-9]{2,12}$")


class StationError(ValueError):
    """One bad station entry; the message says what is wrong with it."""


@dataclass(frozen=True)
class Pollutant:
    code: str
    assessed: bool = True
    emission_limit: float | None = None
    limit_period: str | None = None
    range_low: float | None = None
    range_high: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Station:
    mn: str
    name: str
    medium: str
    region_code: str
    password: str = "123456"
    enterprise: str = ""
    outlet: str = ""
    protocol_version: str = "2017"
    legacy_crc: str = "reject"
    rt_interval_s: int = 30
    minute_interval_min: int = 10
    o2_ref: float | None = None
    active: bool = True
    # from when the station is monitored (expected hours count from it); None on import:
    # unchanged, or the time of the first import (stored as hj212.station.created_at)
    monitored_since: datetime | None = None
    pollutants: tuple[Pollutant, ...] = field(default_factory=tuple)
    sm4_key: str | None = None  # HJ 212-2025 §6.4; None on import: keep the stored one


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


_UPSERT = """
INSERT INTO hj212.station (mn, password, sm4_key, name, enterprise, outlet, medium,
    region_code, protocol_version, legacy_crc, rt_interval_s, minute_interval_min, o2_ref,
    active, created_at)
VALUES (%(mn)s, %(password)s, %(sm4_key)s, %(name)s, %(enterprise)s, %(outlet)s, %(medium)s,
    %(region_code)s, %(protocol_version)s, %(legacy_crc)s, %(rt_interval_s)s,
    %(minute_interval_min)s, %(o2_ref)s, %(active)s,
    coalesce(%(monitored_since)s::timestamptz, now()))
ON CONFLICT (mn) DO UPDATE SET (password, sm4_key, name, enterprise, outlet, medium,
    region_code, protocol_version, legacy_crc, rt_interval_s, minute_interval_min, o2_ref,
    active, created_at, updated_at) = (EXCLUDED.password,
    coalesce(EXCLUDED.sm4_key, station.sm4_key), EXCLUDED.name, EXCLUDED.enterprise,
    EXCLUDED.outlet, EXCLUDED.medium, EXCLUDED.region_code, EXCLUDED.protocol_version,
    EXCLUDED.legacy_crc, EXCLUDED.rt_interval_s, EXCLUDED.minute_interval_min,
    EXCLUDED.o2_ref, EXCLUDED.active,
    coalesce(%(monitored_since)s::timestamptz, station.created_at), now())
WHERE (station.password, station.sm4_key, station.name, station.enterprise, station.outlet,
    station.medium, station.region_code, station.protocol_version, station.legacy_crc,
    station.rt_interval_s, station.minute_interval_min, station.o2_ref, station.active,
    coalesce(%(monitored_since)s::timestamptz, station.created_at))
    IS DISTINCT FROM (EXCLUDED.password, coalesce(EXCLUDED.sm4_key, station.sm4_key),
    EXCLUDED.name, EXCLUDED.enterprise, EXCLUDED.outlet,
    EXCLUDED.medium, EXCLUDED.region_code, EXCLUDED.protocol_version, EXCLUDED.legacy_crc,
    EXCLUDED.rt_interval_s, EXCLUDED.minute_interval_min, EXCLUDED.o2_ref, EXCLUDED.active,
    station.created_at)
"""
_POLLUTANT_UPSERT = """
INSERT INTO hj212.station_pollutant (mn, pollutant, assessed, emission_limit, limit_period,
    range_low, range_high, unit)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (mn, pollutant) DO UPDATE SET (assessed, emission_limit, limit_period,
    range_low, range_high, unit) = (EXCLUDED.assessed, EXCLUDED.emission_limit,
    EXCLUDED.limit_period, EXCLUDED.range_low, EXCLUDED.range_high, EXCLUDED.unit)
WHERE (station_pollutant.assessed, station_pollutant.emission_limit,
    station_pollutant.limit_period, station_pollutant.range_low, station_pollutant.range_high,
    station_pollutant.unit) IS DISTINCT FROM (EXCLUDED.assessed, EXCLUDED.emission_limit,
    EXCLUDED.limit_period, EXCLUDED.range_low, EXCLUDED.range_high, EXCLUDED.unit)
"""


def upsert(conn: psycopg.Connection[TupleRow], stations: Iterable[Station]) -> int:
    """Insert or update each station and replace its pollutant list; one transaction.

    Unchanged rows are not rewritten, so a re-import adds nothing to the audit log.
    """
    count = 0
    with conn.transaction():
        for station in stations:
            row = asdict(station)
            row.pop("pollutants")
            conn.execute(_UPSERT, row)
            codes = [p.code for p in station.pollutants]
            conn.execute(
                "DELETE FROM hj212.station_pollutant WHERE mn = %s AND pollutant <> ALL(%s)",
                (station.mn, codes),
            )
            for p in station.pollutants:
                conn.execute(
                    _POLLUTANT_UPSERT,
                    (
                        station.mn,
                        p.code,
                        p.assessed,
                        p.emission_limit,
                        p.limit_period,
                        p.range_low,
                        p.range_high,
                        p.unit,
                    ),
                )
            count += 1
    return count


_NAMES = [c for c in COLUMNS if c != "pollutants"]
_STATIONS = (
    "SELECT "
    + ", ".join("created_at" if c == "monitored_since" else c for c in _NAMES)
    + " FROM hj212.station ORDER BY region_code, mn"
).encode()
_POLLUTANTS = (
    b"SELECT mn, pollutant, assessed, emission_limit, limit_period, range_low, range_high,"
    b" unit FROM hj212.station_pollutant ORDER BY mn, pollutant"
)


def _stations(rows: Iterable[Row], codes: Iterable[Row]) -> list[Station]:
    pollutants: dict[str, list[Pollutant]] = {}
    for mn, *rest in codes:
        pollutants.setdefault(mn, []).append(Pollutant(*rest))
    return [
        Station(**dict(zip(_NAMES, row, strict=True)), pollutants=tuple(pollutants.get(row[0], ())))
        for row in rows
    ]


def list_stations(conn: psycopg.Connection[TupleRow]) -> list[Station]:
    """Every registered station with its pollutants (secrets included: callers that
    show stations leave out :data:`SECRETS`)."""
    rows = conn.execute(_STATIONS).fetchall()
    return _stations(rows, conn.execute(_POLLUTANTS).fetchall())


def registered(conn: psycopg.Connection[TupleRow]) -> set[str]:
    """The MNs in the registry."""
    return {row[0] for row in conn.execute("SELECT mn FROM hj212.station")}


async def list_stations_async(conn: psycopg.AsyncConnection[TupleRow]) -> list[Station]:
    """:func:`list_stations` on an async connection (the gateway's registry refresh)."""
    rows = await (await conn.execute(_STATIONS)).fetchall()
    return _stations(rows, await (await conn.execute(_POLLUTANTS)).fetchall())


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
