"""Outage and facility cases: deadlines, reminders, escalation (docs/regulations.md §6).

A case opens when a station goes silent (outage, A1) or its facility stops producing
valid data (flags D/B, unmarked M/C, a factor missing: A22). From its opening:

* the **written report** is due after ``report_due_h`` (Hubei Art. 15: 24 h);
* **normal operation** is due after ``restore_due_gas_h`` (12 h) for gas or
  ``restore_due_water_h`` (48 h) for water (Hubei Art. 15; 环发〔2008〕6号: 48 h);
* a **reminder** ``reminder_before_h`` ahead of each deadline, an **overdue**
  escalation at each deadline;
* a **manual-sampling** reminder every ``manual_sampling_every_h`` (6 h) while the case
  lasts: data are due from manual sampling meanwhile (Art. 15; 环发〔2008〕6号: at least
  four a day, at most 6 h apart).

The case closes when valid data resume; its timeline stays in storage. Steps still
pending at closing are dropped [E]. Deadlines are plain elapsed time (UTC
microseconds), so midnight and month ends need nothing special; the national "5
working days" (MEP Order 19) would need a holiday calendar and is not modelled.
"""

from __future__ import annotations

from rules.config import RulesConfig
from rules.times import HOUR


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


def next_step(
    opened: int, report_due: int, restore_due: int, done: list[str], k: int, cfg: RulesConfig
) -> tuple[int, str]:
    """The next thing due for a case: a deadline step not yet taken, or manual sampling."""
    pending = [s for s in steps(opened, report_due, restore_due, cfg) if s[1] not in done]
    manual = (manual_due(opened, k, cfg), f"manual-sampling-{k}")
    return min([*pending[:1], manual])


def severity(label: str) -> str:
    if label.endswith("overdue"):
        return "critical"
    return "warning" if "reminder" in label else "info"


def alarm_kind(label: str) -> str:
    if label.endswith("overdue"):
        return "case-overdue"
    return "case-reminder" if "reminder" in label else "manual-sampling-due"
