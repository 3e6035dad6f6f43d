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
* a **substituted** hour is never judged (docs/regulations.md §2.2): nothing is raised;
* a **late mark** that makes hours invalid or takes them out of the period withdraws
  their exceedance (公告2022年第21号: invalid data are not judged, §1.3).

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
from rules.exceedance import gas_value, judge_hour
from rules.model import Clear, Mark, Reading
from rules.state import StationState
from rules.times import DAY, HOUR, dt, iso, us
from rules.validity import mark_effect


def remember(st: StationState, code: str, hour: int, key: str) -> None:
    """Hour ``hour`` of ``code`` was judged over its limit, in alarm ``key``."""
    st.exceeded.setdefault(code, {})[str(hour)] = key


def forget_before(st: StationState, t: int) -> None:
    """Hours before ``t`` can no longer be corrected: no need to remember them."""
    for code in list(st.exceeded):
        kept = {h: k for h, k in st.exceeded[code].items() if int(h) >= t}
        if kept:
            st.exceeded[code] = kept
        else:
            del st.exceeded[code]


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
    detail["reason"] = f"correction {item.id} approved: {detail['judged']}"
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
    _note(ctx, f"correction:{item.id}", code, hour, detail)


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
    if not cleared and not kept:
        return  # none of its hours had been judged over a limit: nothing changes
    detail: dict[str, object] = {
        "by": "late mark",
        "mark": mark.id,
        "category": mark.category,
        "pollutant": mark.pollutant,
        "from": iso(start),
        "to": iso(end),
        "cleared": sorted(set(cleared) - set(kept)),
        "kept": sorted(set(kept)),
        "reason": "marked hours are not judged (公告2022年第21号, docs/regulations.md §1.3)",
    }
    _note(ctx, f"mark:{mark.id}", mark.pollutant, start, detail)


def _note(ctx: Ctx, what: str, code: str | None, hour: int, detail: dict[str, object]) -> None:
    ctx.alarm(f"{ctx.mn}:rejudged:{what}", "rejudged", "info", pollutant=code, data_time=hour,
              detail=detail)  # fmt: skip
