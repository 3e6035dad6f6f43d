"""Outage and facility cases: deadlines, reminders, escalation (docs/regulations.md §6).

A case opens when a station goes silent (outage, A1) or its facility stops producing
valid data (flags D/B, unmarked M/C, a factor missing: A22). From its opening:

* the **written report** is due after ``report_due_h`` (Hubei Art. 15: 24 h);
* **normal operation** is due after ``restore_due_gas_h`` (12 h) for gas or
  ``restore_due_water_h`` (48 h) for water (Hubei Art. 15; 环发〔2008〕6号: 48 h);
* a **reminder** ``reminder_before_h`` ahead of each deadline, an **overdue**
  escalation at each deadline;
* a **manual sample** due ``manual_sampling_every_h`` (6 h) after the case opened or the
  last sample taken, whichever is later, while the case lasts (Art. 15; 环发〔2008〕6号
  第十五条: at least four a day, at most 6 h apart): the first one missing is a
  reminder, each further one in a row an escalation (``manual-sampling-missed-k``).

What the enterprise files takes steps off (docs/regulations.md §6.5, rules/filings.py):
a written report filed before the report deadline takes the report steps off; an
advance notice of a planned stop covering the case's start makes the case planned.

The case closes when valid data resume; its timeline stays in storage. Steps still
pending at closing are dropped [E]. Deadlines are plain elapsed time (UTC
microseconds), so midnight and month ends need nothing special; the national "5
working days" (MEP Order 19) would need a holiday calendar and is not modelled.
"""

from __future__ import annotations

from rules.config import RulesConfig
from rules.state import CaseState
from rules.state_parts import PlannedStop
from rules.times import HOUR

MISSED = "manual-sampling-missed"


def deadlines(opened: int, medium: str, cfg: RulesConfig) -> tuple[int, int]:
    """(report due, restore due) for a case opened at ``opened``."""
    report = opened + round(cfg.report_due_h * HOUR)
    restore = opened + round(cfg.restore_due_h(medium) * HOUR)
    return report, restore


def steps(
    opened: int, report_due: int, restore_due: int, cfg: RulesConfig
) -> list[tuple[int, str]]:
    """Every reminder and escalation of a case, in time order: (when, label)."""
    found = [(report_due, "report-overdue"), (restore_due, "restore-overdue")]
    for lead in cfg.reminder_before_h:
        shift = round(lead * HOUR)
        found.append((report_due - shift, f"report-reminder-{lead:g}h"))
        found.append((restore_due - shift, f"restore-reminder-{lead:g}h"))
    return sorted(step for step in found if step[0] > opened)


def manual_due(opened: int, k: int, cfg: RulesConfig) -> int:
    """When the ``k``-th manual-sampling reminder is due."""
    return opened + k * round(cfg.manual_sampling_every_h * HOUR)


def manual_step(
    opened: int, k: int, cfg: RulesConfig, base: int | None = None, miss: int | None = None
) -> tuple[int, str]:
    """The ``k``-th manual-sampling step: ``miss`` samples missed since ``base`` (the
    last sample taken; the opening when none was), so the next is due one interval
    after the last that was or should have been taken."""
    start = opened if base is None else base
    missed = k - 1 if miss is None else miss
    when = start + (missed + 1) * round(cfg.manual_sampling_every_h * HOUR)
    return when, (f"manual-sampling-{k}" if missed == 0 else f"{MISSED}-{k}")


def next_step(
    opened: int,
    report_due: int,
    restore_due: int,
    done: list[str],
    k: int,
    cfg: RulesConfig,
    *,
    base: int | None = None,
    miss: int | None = None,
) -> tuple[int, str]:
    """The next thing due for a case: a deadline step not yet taken, or manual sampling."""
    pending = [s for s in steps(opened, report_due, restore_due, cfg) if s[1] not in done]
    return min([*pending[:1], manual_step(opened, k, cfg, base, miss)])


def case_next(case: CaseState, cfg: RulesConfig) -> tuple[int, str]:
    """:func:`next_step` of an open case, with the samples it has."""
    return next_step(
        case.opened,
        case.report_due,
        case.restore_due,
        case.done,
        case.manual_k,
        cfg,
        base=case.manual_base,
        miss=case.manual_miss,
    )


def report_labels(case: CaseState, cfg: RulesConfig) -> list[str]:
    """The case's report steps (reminders and overdue) not yet taken."""
    found = steps(case.opened, case.report_due, case.restore_due, cfg)
    return [label for _, label in found if label.startswith("report-") and label not in case.done]


def severity(label: str) -> str:
    if label.endswith("overdue") or label.startswith(MISSED):
        return "critical"
    return "warning" if "reminder" in label else "info"


def alarm_kind(label: str) -> str:
    if label.endswith("overdue"):
        return "case-overdue"
    if label.startswith(MISSED):
        return MISSED
    return "case-reminder" if "reminder" in label else "manual-sampling-due"


def covering_notice(notices: list[PlannedStop], start: int, now: int) -> PlannedStop | None:
    """The advance notice, filed by ``now``, whose window holds ``start`` (the problem's
    start): the case is then a planned stop, not a surprise (环发〔2008〕6号 第十四条)."""
    found = [n for n in notices if n.filed <= now and n.start <= start < n.end]
    return min(found, default=None, key=lambda n: (n.filed, n.id))
