"""Scenario files (TOML): the fleet, per-station overrides and faults on a timeline.

::

    [fleet]                       # every key optional; command-line flags win
    stations = 12                 # how many stations
    seed = 212                    # everything random derives from it
    start = "2026-03-01T23:40:00+08:00"   # simulated time at run start (default: now)
    speed = 60                    # simulated seconds per real second (default 1)
    duration = 30                 # real seconds the run lasts
    rtd_interval = 30             # RtdInterval, simulated seconds (HJ 212-2017 CN 1062)
    min_interval = 10             # MinInterval, minutes (CN 1064)
    models = ["water", "cems", "flow"]   # assigned round-robin by station index
    versions = ["2017"]           # "2005", "2017", "2025", round-robin; "mix" = all three
    mn_prefix = "5131"            # MN = prefix + zero-padded index (24 or 14 characters)
    overtime = 5.0                # real seconds to wait for 9014 (HJ 212-2017 Table 1)
    recount = 3                   # resends before giving a record up
    rate = 0                      # frames/s cap over the fleet; 0 = none

    [[station]]                   # overrides for one station, by index
    index = 3
    model = "cems"                # cems | water | flow | cems-nox (CEMS with NO, NO2)
    version = "2025"
    crc = "modbus"                # hj212 | modbus | modbus-swapped (legacy loggers)
    sm4_key = "30303030303030303030303030303030"   # 2025: encrypt the CP area
    o2_ref = 9.0                  # reference O2 % for Zs (default 6 for cems)
    password = "123456"

    [[fault]]
    kind = "disconnect"           # see KINDS
    start = 300                   # simulated seconds after the run start
    duration = 600                # simulated seconds
    stations = [0, 1]             # indices; omitted = every station
    pollutants = ["a21026"]       # value faults only; omitted = the kind's default

Every time in the file is simulated seconds (equal to real seconds at ``speed = 1``),
except ``delay`` of slow writes and ``overtime``, which are real network times.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

# Value faults change what the instruments read (and so every record built from it);
# link faults change what goes on the wire. Defaults of the optional parameters:
VALUE_KINDS: dict[str, dict[str, float]] = {
    "fault": {},  # flag D: instrument fault (HJ 212-2017 Table 8)
    "maintenance": {},  # flag M
    "calibration": {},  # flag C; zero gas, then span gas at 80 % of the range
    "stuck": {},  # the value freezes at its value when the fault starts; flag N
    "zeros": {},  # 0, flag N
    "negatives": {},  # below zero, flag N
    "over_range": {},  # above the measuring range, flag T
    "spikes": {"every": 20.0, "factor": 8.0},  # one sample in `every` times `factor`
    "exceedance": {"factor": 1.6},  # `factor` times the emission limit, flag N
    "narrow": {"factor": 0.005},  # within ± `factor` x range of its start value, flag N
    "detection_limit": {"factor": 0.004},  # about `factor` x range, at the DL, flag N
    "wrong_o2_ref": {"factor": 9.0},  # Zs converted to `factor` % O2, not the station's
    "bad_aggregate": {"factor": 1.3},  # hour records' Avg `factor` x their minutes' mean
    "cou_units": {"factor": 1000.0},  # period records' Cou `factor` x the mass (g for kg)
    "absent": {},  # the factor is left out of every upload (not O2 or the flow)
    "nox_inversion": {"factor": 0.5},  # NOx `factor` x its NO and NO2 (cems-nox: A15)
}
LINK_KINDS: dict[str, dict[str, float]] = {
    "disconnect": {},  # the platform is unreachable: records wait, then go with RF=1
    "cut_off": {},  # unreachable, and the records due meanwhile are never sent by themselves
    "clock_drift": {"factor": 120.0},  # the logger clock gains `factor` s per hour
    "bad_crc": {"every": 1.0},  # every `every`-th frame is first sent with a wrong CRC
    "garbage": {"every": 1.0},  # garbage bytes before every `every`-th frame
    "split_packets": {"limit": 300},  # PNUM/PNO split at `limit` bytes (HJ 212-2017 §9)
    "slow_writes": {"chunk": 16, "delay": 0.02},  # `chunk` bytes per write, `delay` s apart
    "duplicates": {"every": 1.0},  # every `every`-th upload is sent twice
    "out_of_order": {},  # real-time uploads go in swapped pairs, the newer one first
    "no_hourly": {},  # the hour records (2061) due while it lasts are never made
    "reconnect_storm": {"every": 60.0},  # drop and reconnect every `every` s
}
KINDS = VALUE_KINDS | LINK_KINDS
MODEL_NAMES = ("water", "cems", "flow", "cems-nox")
DEFAULT_MODELS = MODEL_NAMES[:3]  # a fleet's round-robin unless it names its own
VERSIONS = ("2005", "2017", "2025")
CRC_VARIANTS = ("hj212", "modbus", "modbus-swapped")


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: ``kind`` from ``start`` for ``duration`` (simulated seconds after the
    run start); ``begin``/``end`` are the same window in absolute seconds once bound to
    a run (:meth:`bind`)."""

    kind: str
    start: float
    duration: float
    stations: frozenset[int] | None = None
    pollutants: frozenset[str] | None = None
    every: float = 1.0
    factor: float = 1.0
    limit: int = 300
    chunk: int = 16
    delay: float = 0.02
    begin: float = 0.0
    end: float = 0.0

    def applies_to(self, index: int) -> bool:
        return self.stations is None or index in self.stations

    def bind(self, run_start: float) -> Fault:
        begin = run_start + self.start
        return replace(self, begin=begin, end=begin + self.duration)

    @property
    def is_value_fault(self) -> bool:
        return self.kind in VALUE_KINDS


@dataclass(frozen=True, slots=True)
class StationOverride:
    index: int
    model: str | None = None
    version: str | None = None
    crc: str | None = None
    sm4_key: bytes | None = None
    o2_ref: float | None = None
    password: str | None = None


@dataclass(frozen=True)
class Scenario:
    stations: int | None = None
    seed: int | None = None
    start: datetime | None = None
    speed: float | None = None
    duration: float | None = None
    rtd_interval: float | None = None
    min_interval: int | None = None
    models: tuple[str, ...] = DEFAULT_MODELS
    versions: tuple[str, ...] = ("2017",)
    mn_prefix: str | None = None
    overtime: float | None = None
    recount: int | None = None
    rate: float | None = None
    overrides: dict[int, StationOverride] = field(default_factory=dict)
    faults: tuple[Fault, ...] = ()


_FLEET_TYPES: dict[str, type | tuple[type, ...]] = {
    "stations": int,
    "seed": int,
    "start": (str, datetime),
    "speed": (int, float),
    "duration": (int, float),
    "rtd_interval": (int, float),
    "min_interval": int,
    "models": list,
    "versions": list,
    "mn_prefix": str,
    "overtime": (int, float),
    "recount": int,
    "rate": (int, float),
}
_FAULT_KEYS = {"kind", "start", "duration", "stations", "pollutants"}


def load(path: Path) -> Scenario:
    """Read and check a scenario file.

    :raises ScenarioError: for unreadable TOML, an unknown key or kind, a bad value.
    """
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    return parse(data, str(path))


def parse(data: dict[str, Any], where: str = "scenario") -> Scenario:
    unknown = set(data) - {"fleet", "station", "fault"}
    if unknown:
        raise ScenarioError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}")
    fleet = _fleet(data.get("fleet", {}), where)
    overrides = {}
    for n, item in enumerate(data.get("station", [])):
        o = _override(item, f"{where}: [[station]] #{n + 1}")
        overrides[o.index] = o
    faults = tuple(
        _fault(item, f"{where}: [[fault]] #{n + 1}") for n, item in enumerate(data.get("fault", []))
    )
    return replace(fleet, overrides=overrides, faults=faults)


def _fleet(data: dict[str, Any], where: str) -> Scenario:
    out: dict[str, Any] = {}
    for key, value in data.items():
        kind = _FLEET_TYPES.get(key)
        if kind is None:
            raise ScenarioError(f"{where}: [fleet] has no key {key!r}")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ScenarioError(f"{where}: [fleet] {key} = {value!r} has the wrong type")
        out[key] = value
    if isinstance(out.get("start"), str):
        try:
            out["start"] = datetime.fromisoformat(out["start"])
        except ValueError:
            raise ScenarioError(f"{where}: [fleet] start is not an ISO 8601 time") from None
    if "start" in out and out["start"].tzinfo is None:
        raise ScenarioError(f"{where}: [fleet] start needs a UTC offset (+08:00)")
    models = tuple(out.pop("models", DEFAULT_MODELS))
    if not models or not set(models) <= set(MODEL_NAMES):
        raise ScenarioError(f"{where}: [fleet] models take {', '.join(MODEL_NAMES)}")
    versions = tuple(out.pop("versions", ["2017"]))
    if versions == ("mix",):
        versions = VERSIONS
    if not versions or not set(versions) <= set(VERSIONS):
        raise ScenarioError(f"{where}: [fleet] versions take {', '.join(VERSIONS)} or mix")
    for key in ("speed", "duration", "rtd_interval"):
        if key in out and out[key] <= 0:
            raise ScenarioError(f"{where}: [fleet] {key} must be positive")
    return Scenario(models=models, versions=versions, **out)


def _override(item: dict[str, Any], where: str) -> StationOverride:
    allowed = {"index", "model", "version", "crc", "sm4_key", "o2_ref", "password"}
    if unknown := set(item) - allowed:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if not isinstance(item.get("index"), int):
        raise ScenarioError(f"{where}: index (an integer) is required")
    checks = {"model": MODEL_NAMES, "version": VERSIONS, "crc": CRC_VARIANTS}
    for key, choices in checks.items():
        if key in item and item[key] not in choices:
            raise ScenarioError(f"{where}: {key} takes {', '.join(choices)}")
    key_bytes = None
    if "sm4_key" in item:
        try:
            key_bytes = bytes.fromhex(item["sm4_key"])
        except (TypeError, ValueError):
            key_bytes = b""
        if len(key_bytes) != 16:
            raise ScenarioError(f"{where}: sm4_key must be 32 hex digits")
    o2_ref = item.get("o2_ref")
    if o2_ref is not None and not (isinstance(o2_ref, int | float) and 0 <= o2_ref < 21):
        raise ScenarioError(f"{where}: o2_ref must be a number 0..21")
    return StationOverride(
        index=item["index"],
        model=item.get("model"),
        version=item.get("version"),
        crc=item.get("crc"),
        sm4_key=key_bytes,
        o2_ref=float(o2_ref) if o2_ref is not None else None,
        password=item.get("password"),
    )


def _fault(item: dict[str, Any], where: str) -> Fault:
    kind = item.get("kind")
    if kind not in KINDS:
        raise ScenarioError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    params = KINDS[kind]
    if unknown := set(item) - _FAULT_KEYS - set(params):
        raise ScenarioError(f"{where}: {kind} takes no {', '.join(sorted(unknown))}")
    for key in ("start", "duration"):
        value = item.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ScenarioError(f"{where}: {key} (seconds, >= 0) is required")
    stations = item.get("stations")
    if stations is not None and not (
        isinstance(stations, list) and all(isinstance(s, int) for s in stations)
    ):
        raise ScenarioError(f"{where}: stations is a list of station indices")
    pollutants = item.get("pollutants")
    if pollutants is not None and (kind not in VALUE_KINDS or not isinstance(pollutants, list)):
        raise ScenarioError(f"{where}: pollutants is a list of codes, for value faults only")
    values = {**params, **{k: item[k] for k in params if k in item}}
    for key, value in values.items():
        if not isinstance(value, int | float) or value <= 0:
            raise ScenarioError(f"{where}: {key} must be a positive number")
    return Fault(
        kind=kind,
        start=float(item["start"]),
        duration=float(item["duration"]),
        stations=frozenset(stations) if stations is not None else None,
        pollutants=frozenset(pollutants) if pollutants is not None else None,
        every=float(values.get("every", 1.0)),
        factor=float(values.get("factor", 1.0)),
        limit=int(values.get("limit", 300)),
        chunk=int(values.get("chunk", 16)),
        delay=float(values.get("delay", 0.02)),
    )
