from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent


def test_example_file_loads_with_documented_defaults() -> None:
    settings = load(ROOT / "config" / "example.toml", env={})
    assert settings.gateway.port == 9212
    assert settings.database.dsn is None
    assert settings.database.home == Path("var/pg")


def test_environment_overrides_file_and_flags_override_environment(tmp_path: Path) -> None:
    path = tmp_path / "hj212.toml"
    path.write_text("[gateway]\nport = 1000\n[storage]\nmax_batch = 10\n")
    env = {"HJ212_GATEWAY_PORT": "2000", "HJ212_DSN": "postgresql://x/y"}
    settings = load(path, env=env, overrides={"gateway": {"port": 3000}})
    assert settings.gateway.port == 3000
    assert settings.storage.max_batch == 10
    assert settings.database.dsn == "postgresql://x/y"
    assert load(path, env=env).gateway.port == 2000


@pytest.mark.parametrize(
    "text",
    [
        "[gateway]\nport = 'many'\n",
        "[gateway]\nbogus = 1\n",
        "[nope]\n",
        "not toml [",
        "[console]\ntrusted_proxies = ['10.0.0.0/8', 'proxy.example']\n",
    ],
)
def test_bad_settings_are_clear_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hj212.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load(path, env={})


def test_storage_defaults_keep_raw_records_five_years() -> None:
    settings = load(ROOT / "config" / "example.toml", env={})
    assert settings.storage.retention_days_frame >= 5 * 365
    assert settings.storage.retention_days_measurement >= 5 * 365
    assert settings.storage.retention_days_audit >= 5 * 365
    assert settings.storage.max_delay_ms == 20


def test_max_batch_in_the_old_gateway_section_still_counts(tmp_path: Path) -> None:
    path = tmp_path / "hj212.toml"
    path.write_text("[gateway]\nmax_batch = 7\n")
    assert load(path, env={}).storage.max_batch == 7


def test_example_file_documents_the_real_defaults() -> None:
    """config/example.toml must say what the code does: every value there is the default."""
    import dataclasses
    import tomllib

    from config.settings import Settings

    written = tomllib.loads((ROOT / "config" / "example.toml").read_text("utf-8"))
    defaults = Settings()
    for section, values in written.items():
        current = getattr(defaults, section)
        names = {f.name for f in dataclasses.fields(current)}
        for key, value in values.items():
            assert key in names, f"[{section}] {key} is not a setting"
            actual = getattr(current, key)
            if isinstance(actual, tuple):
                actual = list(actual)
            if isinstance(actual, Path):
                actual = str(actual)
            assert actual == value, f"[{section}] {key}: example says {value!r}, code {actual!r}"


def test_the_cli_names_its_client_once_in_pgoptions() -> None:
    from cli.main import name_local_client

    env = {"PGOPTIONS": "-c statement_timeout=5s"}
    first = name_local_client(env)
    name_local_client(env)
    assert first.startswith("local:")
    assert env["PGOPTIONS"] == f"-c statement_timeout=5s -c hj212.client={first}"


def test_the_console_child_reads_the_parents_rules_file(tmp_path: Path) -> None:
    """`--rules-config` reaches the console's child process through the child's own
    environment; the parent's environment stays as it was (it used to keep the path for
    the rest of the process, and a later command in the same process read it)."""
    import os

    from cli.console_process import _environment
    from config.rules import load_settings
    from config.settings import ConsoleSettings

    rules = tmp_path / "rules.toml"
    rules.write_text("[rules]\ncorrection_window_days = 3\n", "utf-8")
    before = os.environ.get("HJ212_RULES_CONFIG")
    loaded = load_settings(rules, env={})
    assert loaded.source == rules.resolve()
    child = _environment(ConsoleSettings(), loaded)
    assert child["HJ212_RULES_CONFIG"] == str(rules.resolve())
    assert load_settings(env=child).ruleset.base.correction_window_days == 3
    assert os.environ.get("HJ212_RULES_CONFIG") == before
    assert "HJ212_RULES_CONFIG" not in _environment(ConsoleSettings(), load_settings(env={}))
