"""Judging again the hours an approved correction or a late mark concerns
(docs/corrections.md §5).

The engine judges an hour once, when it closes (rules/hourly.py). A correction approved
later, or a mark approved after the hours it covers were judged, changes what those
hours say, so the engine takes it as an input at its approval time and:

* a **corrected** gas hour is judged on its corrected value (converted with the hour's
  O2, rules/exceedance.py): an exceedance alarm whose hours are all no longer over the
  limit is withdrawn (listed as ``cleared``; its condition ends if it still held), one
  that still has hours over it is kept, and a corrected hour now over the limit raises
  its own exceedance alarm (its condition over at once: the hour is past);
* a corrected **water** hour judges its day again on the flow-weighted mean of the
  day's valid hours with the corrected value in it (docs/regulations.md §3.2), from the
  sums the engine kept when the day closed (``StationState.days``);
* a **substituted** hour is never judged (docs/regulations.md §2.2): nothing is raised;
* a **late mark** that makes hours invalid or takes them out of the period withdraws
  their exceedance (公告2022年第21号: invalid data are not judged, §1.3); a late mark of
  the whole station that takes hours out of the period (shutdown, exemption) withdraws
  their ``hour-missing`` (A2) too: those hours were not expected (§1.2).

Each correction, and each late mark that withdraws an exceedance, leaves an ``info``
alarm of kind ``rejudged`` saying what it was given, which alarms it cleared (withdrawn:
the rules runner also closes them, with that reason, services/rules_runner.py) or kept,
and why; a replay feeds the same inputs at the same times and so gives the same
outputs.

The engine remembers which alarm each exceeded hour belongs to
(``StationState.exceeded``) for the correction window of the station's region.
"""

from __future__ import annotations

from rules.context import Ctx
from rules.corrections import Correction
from rules.emissions import volume
from rules.exceedance import gas_value, judge_day, judge_hour
from rules.model import WATER_FLOW, Clear, Mark, PollutantConfig, Reading
from rules.state import StationState
from rules.times import DAY, HOUR, day_floor, dt, iso, us
from rules.validity import mark_effect


def remember(st: StationState, code: str, hour: int, key: str) -> None:
    """Hour ``hour`` of ``code`` was judged over its limit, in alarm ``key``."""
    st.exceeded.setdefault(code, {})[str(hour)] = key


def remember_day(
    st: StationState, code: str, day: int, hours: list[tuple[int, float, float | None]], key: str
) -> None:
    """A water day judged on the mean of its valid hours (hour, value, m³), in alarm
    ``key`` if it exceeded: the sums its mean is made of (rules/hourly.py _judge_day)."""
    mask = sum(1 << ((hour - day) // HOUR) for hour, _, _ in hours)
    known = all(q is not None for _, _, q in hours)
    sum_cq = sum(c * q for _, c, q in hours if q is not None)
    sum_q = sum(q for _, _, q in hours if q is not None)
    summary = [mask, sum(c for _, c, _ in hours), sum_cq, sum_q, int(known), len(hours), key]
    st.days.setdefault(code, {})[str(day)] = summary


def forget_before(st: StationState, t: int) -> None:
    """Hours before ``t`` can no longer be corrected: no need to remember them."""
    for code in list(st.exceeded):
        kept = {h: k for h, k in st.exceeded[code].items() if int(h) >= t}
        if kept:
            st.exceeded[code] = kept
        else:
            del st.exceeded[code]
    st.missed = {h: k for h, k in st.missed.items() if int(h) >= t}
    for code in list(st.days):  # a day that began before t may still hold hours after it
        days = {d: s for d, s in st.days[code].items() if int(d) + DAY > t}
        if days:
            st.days[code] = days
        else:
            del st.days[code]


def window(ctx: Ctx) -> int:
    return round(ctx.cfg.correction_window_days * DAY)


def _withdraw(ctx: Ctx, code: str, hour: int) -> tuple[str, str] | None:
    """Hour ``hour`` of ``code`` no longer exceeds: (its alarm, cleared | kept)."""
    hours = ctx.st.exceeded.get(code, {})
    key = hours.pop(str(hour), None)
    if key is None:
        return None
    if not hours:
        del ctx.st.exceeded[code]
    if key in hours.values():
        return key, "kept"  # other hours of the same alarm are still over the limit
    name = f"exceedance:{code}"
    active = ctx.st.active.get(name)
    if active is not None and active.key == key:  # its condition still holds: it ends
        del ctx.st.active[name]
        ctx.out.append(Clear(key, ctx.mn, dt(ctx.now)))
    return key, "cleared"


def on_correction(ctx: Ctx, item: Correction) -> None:
    hour, code = us(item.hour), item.pollutant
    detail: dict[str, object] = {
        "by": "correction",
        "correction": item.id,
        "kind": item.kind,
        "pollutant": code,
        "hour": iso(hour),
        "value": item.value,
        "original": item.original,
    }
    exceeded = False
    judged = None
    pollutant = ctx.info.pollutants.get(code)
    if item.kind == "correction" and pollutant is not None and ctx.info.medium == "gas":
        reading = Reading(avg=item.value, flag="N")
        o2 = item.o2
        judged = judge_hour(pollutant, gas_value(reading, o2, ctx.info.o2_ref, ctx.cfg), "gas")
        exceeded = judged is not None and judged.exceeded
    if item.kind == "substitution":
        detail["judged"] = "no: a substituted value is never judged (docs/corrections.md §4)"
    elif judged is None:
        detail["judged"] = "no hourly limit to judge it against"
    else:
        detail["judged"] = f"{judged.value:g} against {judged.limit:g} ({judged.basis})"
    before = ctx.st.exceeded.get(code, {}).get(str(hour))
    if exceeded and judged is not None and before is None:
        key = f"{ctx.mn}:exceedance:{code}:correction:{item.id}"
        ctx.alarm(
            key,
            "exceedance",
            "critical",
            pollutant=code,
            data_time=hour,
            value=judged.value,
            threshold=judged.limit,
            detail={"period": "hour", "basis": judged.basis, "correction": item.id},
        )
        ctx.out.append(Clear(key, ctx.mn, dt(ctx.now)))  # a past hour: no condition goes on
        remember(ctx.st, code, hour, key)
        detail["raised"] = key
    elif not exceeded and before is not None:
        found = _withdraw(ctx, code, hour)
        if found is not None:
            detail[found[1]] = [found[0]]
    elif before is not None:
        detail["kept"] = [before]
    if item.kind == "correction" and ctx.info.medium == "water" and pollutant is not None:
        _water_day(ctx, item, pollutant, detail)
    said = "; ".join(str(detail[k]) for k in ("judged", "day") if k in detail)
    detail["reason"] = f"correction {item.id} approved: {said}"
    _note(ctx, f"correction:{item.id}", code, hour, detail)


def _water_day(
    ctx: Ctx, item: Correction, pollutant: PollutantConfig, detail: dict[str, object]
) -> None:
    """The day of a corrected water hour, judged again on its flow-weighted mean of valid
    hours (docs/regulations.md §3.2) with the corrected value in it."""
    hour, code = us(item.hour), item.pollutant
    day = day_floor(hour)
    summary = ctx.st.days.get(code, {}).get(str(day))
    if summary is None:
        detail["day"] = "its day was not judged on a mean (not valid, or not yet closed)"
        return
    mask, sum_c, sum_cq, sum_q, known, n, key = summary
    bit = 1 << ((hour - day) // HOUR)
    q = volume(WATER_FLOW, Reading(avg=item.flow_avg, cou=item.flow_cou), 3600)
    old = item.original if mask & bit and item.original is not None else 0.0
    if not mask & bit:  # an invalid hour, valid once corrected
        mask, n = mask | bit, n + 1
        sum_q += q or 0.0
        old_q = 0.0
    else:
        old_q = q or 0.0
    sum_c += item.value - old
    sum_cq += item.value * (q or 0.0) - old * old_q
    known = int(bool(known) and q is not None)
    mean = sum_cq / sum_q if known and sum_q > 0 else sum_c / n
    judged = judge_day(pollutant, mean, "water")
    exceeded = judged is not None and judged.exceeded
    new_key = key
    if key and not exceeded:
        name = f"exceedance-day:{code}"
        active = ctx.st.active.get(name)
        if active is not None and active.key == key:
            del ctx.st.active[name]
            ctx.out.append(Clear(key, ctx.mn, dt(ctx.now)))
        cleared = detail.get("cleared")
        detail["cleared"] = [*(cleared if isinstance(cleared, list) else []), key]
        new_key = ""
    elif not key and exceeded and judged is not None:
        new_key = f"{ctx.mn}:exceedance-day:{code}:correction:{item.id}"
        ctx.alarm(new_key, "exceedance", "critical", pollutant=code, data_time=day,
                  value=judged.value, threshold=judged.limit,
                  detail={"period": "day", "basis": judged.basis, "correction": item.id})  # fmt: skip
        ctx.out.append(Clear(new_key, ctx.mn, dt(ctx.now)))  # a past day: it does not go on
        detail["raised"] = new_key
    ctx.st.days[code][str(day)] = [mask, sum_c, sum_cq, sum_q, known, n, new_key]
    detail["day"] = f"daily mean {mean:g}" + (f" against {judged.limit:g}" if judged else "")


def on_late_mark(ctx: Ctx, mark: Mark, judged_until: int) -> None:
    """A mark whose period begins before the hours already judged (``judged_until``)."""
    start, end = us(mark.start), min(us(mark.end), judged_until)
    if not mark.invalidates or start >= end:
        return
    cleared: list[str] = []
    kept: list[str] = []
    codes = [mark.pollutant] if mark.pollutant is not None else sorted(ctx.st.exceeded)
    for code in codes:
        for text in sorted(ctx.st.exceeded.get(code, {}), key=int):
            hour = int(text)
            if start <= hour < end and mark_effect([mark], code, hour, hour + HOUR) is not None:
                found = _withdraw(ctx, code, hour)
                if found is not None:
                    (cleared if found[1] == "cleared" else kept).append(found[0])
    _unmiss(ctx, mark, start, end, cleared, kept)
    if not cleared and not kept:
        return  # none of its hours had been judged over a limit or missing: nothing changes
    detail: dict[str, object] = {
        "by": "late mark",
        "mark": mark.id,
        "category": mark.category,
        "pollutant": mark.pollutant,
        "from": iso(start),
        "to": iso(end),
        "cleared": sorted(set(cleared) - set(kept)),
        "kept": sorted(set(kept)),
        "reason": (
            "marked hours are not judged (公告2022年第21号, docs/regulations.md §1.3);"
            " shutdown and exempt hours are not expected (§1.2)"
        ),
    }
    _note(ctx, f"mark:{mark.id}", mark.pollutant, start, detail)


def _unmiss(
    ctx: Ctx, mark: Mark, start: int, end: int, cleared: list[str], kept: list[str]
) -> None:
    """A2 for hours a late mark of the whole station takes out of the period (shutdown,
    exemption: not expected, docs/regulations.md §1.2): their hour-missing alarm is
    withdrawn once none of its hours is left."""
    if mark.pollutant is not None:
        return
    hours = [int(h) for h in ctx.st.missed if start <= int(h) < end]
    for hour in hours:
        effect = mark_effect([mark], None, hour, hour + HOUR)
        if effect is None or effect.effect == "invalid":
            continue  # an invalid hour is still an hour that did not arrive
        key = ctx.st.missed.pop(str(hour))
        if key in ctx.st.missed.values():
            kept.append(key)
            continue
        active = ctx.st.active.get("hour-missing")
        if active is not None and active.key == key:
            del ctx.st.active["hour-missing"]
            ctx.out.append(Clear(key, ctx.mn, dt(ctx.now)))
        cleared.append(key)


def _note(ctx: Ctx, what: str, code: str | None, hour: int, detail: dict[str, object]) -> None:
    ctx.alarm(f"{ctx.mn}:rejudged:{what}", "rejudged", "info", pollutant=code, data_time=hour,
              detail=detail)  # fmt: skip
