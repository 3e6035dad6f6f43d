"""Settings from a TOML file, then ``HJ212_*`` environment variables, then flags.

Precedence, lowest first: defaults, the file (``--config``, else ``$HJ212_CONFIG``, else
``./hj212.toml`` if present), environment variables ``HJ212_<SECTION>_<KEY>``
(``HJ212_GATEWAY_PORT=9300``; ``HJ212_DSN`` is short for ``HJ212_DATABASE_DSN``), then
command-line overrides passed in by the entry point.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config.rules import load_settings as load_rules
from config.settings import (
    BackfillSettings,
    ConsoleSettings,
    DatabaseSettings,
    GatewaySettings,
    Rewrite,
    Settings,
    StorageSettings,
    UpstreamSettings,
)
from rules.config import RulesConfigError

_SECTIONS: dict[str, type[Any]] = {
    "database": DatabaseSettings,
    "gateway": GatewaySettings,
    "storage": StorageSettings,
    "console": ConsoleSettings,
    "backfill": BackfillSettings,
}


class ConfigError(ValueError):
    """Raised at startup for an unreadable file or a value of the wrong type."""


def _convert(cls: type[Any], name: str, value: object) -> object:
    hint = typing.get_type_hints(cls)[name]
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None or (isinstance(value, str) and value == "" and type(None) in options):
        if type(None) in options:
            return None
        raise ConfigError(f"{cls.__name__}.{name} may not be empty")
    for option in options:
        if option is type(None):
            continue
        try:
            converted = _to(option, value)
        except (TypeError, ValueError):
            continue
        choices = CHOICES.get(name)
        if choices is not None and converted not in choices:
            raise ConfigError(f"{cls.__name__}.{name}: {value!r} is not one of {choices}")
        return converted
    raise ConfigError(f"{cls.__name__}.{name}: {value!r} is not a {hint}")


CHOICES: dict[str, tuple[str, ...]] = {
    "unknown_station": ("quarantine", "accept", "archive", "close"),
    "bad_password": ("archive", "close"),
    "log_format": ("text", "json"),
    "version": ("2017", "2025"),
    "mode": ("passthrough", "rewrite"),
}
_HEX_KEY = frozenset("0123456789abcdefABCDEF")


def _to(option: Any, value: object) -> object:
    if typing.get_origin(option) is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise TypeError(value)
        return tuple(str(v).strip() for v in items if str(v).strip())
    if option is bool and isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "on")
    if option is bool and not isinstance(value, bool):
        raise TypeError(value)
    if option in (int, float) and isinstance(value, bool):
        raise TypeError(value)
    return option(value)


def _section(cls: type[Any], name: str, values: Mapping[str, object]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"[{name}] has unknown keys: {', '.join(sorted(unknown))}")
    converted = {k: _convert(cls, k, v) for k, v in values.items()}
    proxies = converted.get("trusted_proxies", ())
    for proxy in proxies if isinstance(proxies, tuple) else ():
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"[{name}] trusted_proxies: {proxy!r} is not an address") from None
    return cls(**converted)


def _upstreams(tables: object) -> tuple[UpstreamSettings, ...]:
    """The ``[[upstream]]`` tables (docs/forwarding.md §2), checked."""
    if not isinstance(tables, list):
        raise ConfigError("upstream: write [[upstream]] tables")
    out: list[UpstreamSettings] = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            raise ConfigError(f"[[upstream]] #{index + 1} is not a table")
        values = dict(table)
        rewrite = values.pop("rewrite", {})
        if not isinstance(rewrite, dict) or not all(
            isinstance(v, dict) and set(v) == {"mn", "pw"} for v in rewrite.values()
        ):
            raise ConfigError(f"[[upstream]] #{index + 1}: rewrite.<MN> needs mn and pw")
        upstream: UpstreamSettings = _section(UpstreamSettings, "upstream", values)
        key = upstream.sm4_key
        if key is not None and (len(key) != 32 or not set(key) <= _HEX_KEY):
            raise ConfigError(f"[[upstream]] {upstream.name}: sm4_key is not 32 hex digits")
        if any(u.name == upstream.name for u in out):
            raise ConfigError(f"[[upstream]] {upstream.name} is named twice")
        changes = {mn: Rewrite(str(v["mn"]), str(v["pw"])) for mn, v in rewrite.items()}
        out.append(dataclasses.replace(upstream, rewrite=changes))
    return tuple(out)


def load(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, object]] | None = None,
    rules_path: Path | None = None,
) -> Settings:
    """The settings, and the rules settings from ``rules_path`` (else
    ``$HJ212_RULES_CONFIG``, else ``./rules.toml``: config/rules.py)."""
    env = os.environ if env is None else env
    try:
        rules = load_rules(rules_path, env)
    except RulesConfigError as exc:
        raise ConfigError(f"rules configuration: {exc}") from None
    data: dict[str, dict[str, object]] = {}
    path = path or (Path(env["HJ212_CONFIG"]) if env.get("HJ212_CONFIG") else None)
    if path is None and Path("hj212.toml").exists():
        path = Path("hj212.toml")
    if path is not None:
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from None
    upstreams = _upstreams(data.pop("upstream", []))
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise ConfigError(f"{path}: unknown sections: {', '.join(sorted(unknown))}")
    gateway = data.get("gateway", {})
    if "max_batch" in gateway:  # before [storage] existed it lived in [gateway]
        data.setdefault("storage", {}).setdefault("max_batch", gateway.pop("max_batch"))
    if env.get("HJ212_DSN"):
        data.setdefault("database", {})["dsn"] = env["HJ212_DSN"]
    for section, cls in _SECTIONS.items():
        for f in dataclasses.fields(cls):
            key = f"HJ212_{section.upper()}_{f.name.upper()}"
            if key in env:
                data.setdefault(section, {})[f.name] = env[key]
        for key, value in (overrides or {}).get(section, {}).items():
            if value is not None:
                data.setdefault(section, {})[key] = value
    sections = {s: _section(cls, s, data.get(s, {})) for s, cls in _SECTIONS.items()}
    return Settings(**sections, rules=rules, upstreams=upstreams)
