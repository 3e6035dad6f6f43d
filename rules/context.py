"""What a rule step works on: one station's state, its registry entry and rules, the
time, and where its outputs go. Conditions and cases are raised through here so that
dedupe and the case timers are handled in one place.

A *condition* (``exceedance:a21026``, ``negative:w01018``, ``clock-drift`` ...) is
raised once when it starts holding and cleared once when it stops: its alarm key is
``MN:condition:start`` and nothing is raised again while it is active. A condition
found in one kind of record (CN) is cleared only by a record of the same kind, so that
real-time and hourly data do not toggle it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rules import cases
from rules.config import RulesConfig
from rules.model import Alarm, CaseEvent, Clear, Detail, Output, StationInfo
from rules.state import CaseState, StationState
from rules.state_parts import Active
from rules.times import dt, local


def stamp(t: int) -> str:
    """Beijing ISO time with microseconds when there are any: part of alarm keys."""
    return local(t).isoformat()


@dataclass
class Ctx:
    st: StationState
    info: StationInfo
    cfg: RulesConfig
    out: list[Output]
    now: int
    arm: Callable[[StationState, str], None]

    @property
    def mn(self) -> str:
        return self.st.mn

    def alarm(
        self,
        key: str,
        kind: str,
        severity: str,
        *,
        pollutant: str | None = None,
        data_time: int | None = None,
        value: float | None = None,
        threshold: float | None = None,
        detail: Detail | None = None,
        case_key: str | None = None,
    ) -> None:
        self.out.append(
            Alarm(
                key,
                self.mn,
                kind,
                severity,
                dt(self.now),
                pollutant,
                dt(data_time) if data_time is not None else None,
                value,
                threshold,
                dict(detail or {}),
                case_key,
            )
        )

    def condition(
        self,
        name: str,
        present: bool,
        kind: str,
        severity: str = "warning",
        *,
        cn: str = "",
        pollutant: str | None = None,
        data_time: int | None = None,
        value: float | None = None,
        threshold: float | None = None,
        detail: Detail | None = None,
    ) -> None:
        """Raise ``name`` if it starts holding, clear it if it stopped (same CN)."""
        active = self.st.active.get(name)
        if present and active is None:
            key = f"{self.mn}:{name}:{stamp(self.now)}"
            self.st.active[name] = Active(key, cn)
            self.alarm(
                key,
                kind,
                severity,
                pollutant=pollutant,
                data_time=data_time,
                value=value,
                threshold=threshold,
                detail=detail,
            )
        elif not present and active is not None and (not active.cn or active.cn == cn):
            del self.st.active[name]
            self.out.append(Clear(active.key, self.mn, dt(self.now)))

    def open_case(
        self, kind: str, pollutant: str | None, started: int | None, cause: str
    ) -> CaseState:
        existing = self.st.open_case(kind, pollutant)
        if existing is not None:
            return existing
        medium = self.info.medium
        report_due, restore_due = cases.deadlines(self.now, medium, self.cfg)
        notice = cases.covering_notice(self.st.notices, started or self.now, self.now)
        if notice is not None:  # planned: restored by the end of the window it announced
            restore_due = max(restore_due, notice.end)
        key = f"{self.mn}:{kind}:{pollutant or '*'}:{stamp(self.now)}"
        case = CaseState(key, kind, pollutant, medium, self.now, started, report_due, restore_due)
        case.cause = cause
        self.st.cases[key] = case
        detail: dict[str, object] = {
            "case_kind": kind,
            "pollutant": pollutant,
            "medium": medium,
            "cause": cause,
            "started_at": stamp(started) if started is not None else None,
            "report_due": stamp(report_due),
            "restore_due": stamp(restore_due),
        }
        if notice is not None:  # the notice was the report, made in advance
            case.planned = notice.id
            case.done += cases.report_labels(case, self.cfg)
            detail["planned"] = {"notice": notice.id, "kind": notice.kind}
        self.out.append(CaseEvent(key, self.mn, "opened", dt(self.now), detail))
        severity = "critical" if kind == "outage" and notice is None else "warning"
        self.alarm(key, kind, severity, pollutant=pollutant, detail=detail, case_key=key)
        self.reschedule()
        return case

    def close_case(self, case: CaseState, reason: str) -> None:
        del self.st.cases[case.key]
        self.out.append(CaseEvent(case.key, self.mn, "closed", dt(self.now), {"reason": reason}))
        self.out.append(Clear(case.key, self.mn, dt(self.now)))
        self.reschedule()

    def reschedule(self) -> None:
        """The station's case timer: the earliest next step of its open cases."""
        nexts = [cases.case_next(c, self.cfg)[0] for c in self.st.cases.values()]
        self.st.case_due = min(nexts) if nexts else None
        self.arm(self.st, "case")
