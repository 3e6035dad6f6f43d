"""Settings of the rules engine: the rules themselves, per region, and its operation.

Read from a TOML file of its own (``--rules-config``, else ``$HJ212_RULES_CONFIG``,
else ``./rules.toml`` if present; ``config/rules.example.toml`` documents every key)::

    interval_s = 5            # how often the engine looks for new data
    [rules]                   # rules.config.RulesConfig: every key, with its source
    etr_threshold = 0.95
    [rules.region.42]         # Hubei: a prefix of the 6-digit region code
    restore_due_gas_h = 12
    [[webhook]]
    url = "http://127.0.0.1:8080/alarms"
    min_severity = "warning"  # info | warning | critical
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rules.config import RulesConfigError, Ruleset, ruleset_from
from rules.model import Alarm

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Webhook:
    """Where alarms are POSTed, and which ones (all filters must pass)."""

    url: str
    min_severity: str = "warning"
    kinds: tuple[str, ...] = ()  # alarm kinds; empty = all
    regions: tuple[str, ...] = ()  # region-code prefixes; empty = all

    def wants(self, alarm: Alarm, region_code: str) -> bool:
        if SEVERITY_RANK[alarm.severity] < SEVERITY_RANK[self.min_severity]:
            return False
        if self.kinds and alarm.kind not in self.kinds:
            return False
        return not self.regions or any(region_code.startswith(p) for p in self.regions)


@dataclass(frozen=True)
class RulesSettings:
    ruleset: Ruleset = field(default_factory=Ruleset)
    webhooks: tuple[Webhook, ...] = ()
    interval_s: float = 5.0  # a step of the engine this often
    settle_s: float = 5.0  # only frames received at least this long ago (commits settle)
    backfill_days: float = 7.0  # records older than this when received: reports only
    late_window_h: float = 24.0  # spooled frames committed this late are still processed
    snapshot_days: int = 14  # daily state snapshots kept, for replays
    notify_timeout_s: float = 5.0
    notify_max_attempts: int = 8
    notify_backoff_s: float = 5.0  # doubles per attempt, at most an hour
    source: Path | None = None  # the file these came from (a child process reads it too)


_OPERATION = {f.name for f in dataclasses.fields(RulesSettings)} - {
    "ruleset",
    "webhooks",
    "source",
}


def _webhook(item: object) -> Webhook:
    if not isinstance(item, Mapping) or "url" not in item:
        raise RulesConfigError("every [[webhook]] needs a url")
    unknown = set(item) - {"url", "min_severity", "kinds", "regions"}
    if unknown:
        raise RulesConfigError(f"[[webhook]] has unknown keys: {', '.join(sorted(unknown))}")
    severity = str(item.get("min_severity", "warning"))
    if severity not in SEVERITY_RANK:
        raise RulesConfigError(f"webhook min_severity {severity!r}: info, warning or critical")
    url = str(item["url"])
    if not url.startswith(("http://", "https://")):
        raise RulesConfigError(f"webhook url {url!r} is not http(s)")
    return Webhook(
        url,
        severity,
        tuple(str(k) for k in item.get("kinds", ())),
        tuple(str(r) for r in item.get("regions", ())),
    )


def settings_from(data: Mapping[str, object]) -> RulesSettings:
    """Settings from a TOML-shaped table (unknown keys are an error)."""
    unknown = set(data) - _OPERATION - {"rules", "webhook"}
    if unknown:
        raise RulesConfigError(f"unknown rules settings: {', '.join(sorted(unknown))}")
    rules = data.get("rules", {})
    hooks = data.get("webhook", [])
    if not isinstance(rules, Mapping) or not isinstance(hooks, list):
        raise RulesConfigError("[rules] must be a table and [[webhook]] a list of tables")
    operation: dict[str, object] = {}
    for name in _OPERATION & set(data):
        kind = type(getattr(RulesSettings(), name))
        try:
            operation[name] = kind(data[name])
        except (TypeError, ValueError):
            raise RulesConfigError(f"{name}: {data[name]!r} is not a {kind.__name__}") from None
    return RulesSettings(ruleset_from(rules), tuple(_webhook(h) for h in hooks), **operation)  # type: ignore[arg-type]


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> RulesSettings:
    """From ``path``, else ``$HJ212_RULES_CONFIG``, else ``./rules.toml``, else defaults."""
    env = os.environ if env is None else env
    if path is None and env.get("HJ212_RULES_CONFIG"):
        path = Path(env["HJ212_RULES_CONFIG"])
    if path is None and Path("rules.toml").exists():
        path = Path("rules.toml")
    if path is None:
        return RulesSettings()
    try:
        loaded = settings_from(tomllib.loads(path.read_text("utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesConfigError(f"cannot read {path}: {exc}") from None
    return dataclasses.replace(loaded, source=path.resolve())
