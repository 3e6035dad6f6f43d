"""What the engine does with the facts of a station's answers and event uploads
(docs/protocol.md §16; ``Record.facts``, read from ``hj212.device_event``).

* **2081 restart**: the data logger started again. The event is the stored row (every
  power-on sends one, so it is no alarm: a healthy fleet raises nothing); it becomes an
  entry in the timeline of every case the station has open: a restart during an outage
  or a facility case is part of that case's story.
* **3019 instrument id**: a serial number other than the one the same factor's
  instrument reported before means the instrument was replaced. Seed 003 (湖北省污染源
  自动监控管理办法) Art. 12: replacing a monitoring facility requires a new acceptance
  (重新自行验收), Art. 14: not without cause. A case (``instrument-replaced``) opens,
  naming both serial numbers, and runs its deadlines like any other.
* **2062 standard-sample check** (HJ 212-2025): the hour of the check is kept per
  factor; a station that reports its checks has its water check-hour exemption
  (docs/regulations.md §1.2) taken from the checks it reported, not presumed
  (rules/hourly.py).
"""

from __future__ import annotations

from rules.context import Ctx, stamp
from rules.model import CaseEvent, Fact, Record
from rules.times import HOUR, dt, us

RESTART = "restart"
INSTRUMENT_ID = "instrument-id"
STANDARD_CHECK = "standard-check"


def handle(ctx: Ctx, record: Record) -> None:
    for fact in record.facts:
        if fact.kind == RESTART:
            _restart(ctx, fact)
        elif fact.kind == INSTRUMENT_ID:
            _instrument(ctx, fact)
        elif fact.kind == STANDARD_CHECK:
            _check(ctx, fact)


def _restart(ctx: Ctx, fact: Fact) -> None:
    at = us(fact.at)
    detail = {"restart_time": fact.payload.get("restart_time"), "data_time": stamp(at)}
    for case in sorted(ctx.st.cases.values(), key=lambda c: c.key):
        ctx.out.append(CaseEvent(case.key, ctx.mn, "logger-restart", dt(ctx.now), detail))


def _instrument(ctx: Ctx, fact: Fact) -> None:
    sn, previous = fact.payload.get("sn"), fact.payload.get("previous_sn")
    if not sn or not previous or sn == previous:
        return  # the first serial number heard, or the same instrument
    cause = f"instrument replaced: SN {previous} -> {sn}; new acceptance due (seed 003 Art. 12)"
    ctx.open_case("instrument-replaced", fact.pollutant or None, us(fact.at), cause)


def _check(ctx: Ctx, fact: Fact) -> None:
    if not fact.pollutant:
        return
    hour = us(fact.at) // HOUR * HOUR
    hours = ctx.st.checks.setdefault(fact.pollutant, [])
    if hour not in hours:
        hours.append(hour)
        hours.sort()
