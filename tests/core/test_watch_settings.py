"""The lead watcher's settings (README: Configuration; .env.example)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_values() -> None:
    defaults = load_settings({}, dotenv_path=None)
    assert (defaults.lead_watch_seconds, defaults.telecrm_watch_budget_per_minute) == (120.0, 60)
    assert defaults.lead_watch_calls is False
    given = load_settings(
        {"LEAD_WATCH_SECONDS": "0", "TELECRM_WATCH_BUDGET_PER_MINUTE": "30", "LEAD_WATCH_CALLS": "1"},
        dotenv_path=None,
    )
    assert (given.lead_watch_seconds, given.telecrm_watch_budget_per_minute, given.lead_watch_calls) == (
        0,
        30,
        True,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEAD_WATCH_SECONDS", "-1"),
        ("LEAD_WATCH_SECONDS", "often"),
        ("TELECRM_WATCH_BUDGET_PER_MINUTE", "0"),
        ("TELECRM_WATCH_BUDGET_PER_MINUTE", "1.5"),
        ("LEAD_WATCH_CALLS", "maybe"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value}, dotenv_path=None)


def test_every_watch_setting_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in ("LEAD_WATCH_SECONDS", "TELECRM_WATCH_BUDGET_PER_MINUTE", "LEAD_WATCH_CALLS"):
        assert f"`{name}`" in readme and f"\n{name}=" in example
    assert Settings().lead_watch_seconds == 120.0
