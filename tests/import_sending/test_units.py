"""The pure pieces of sending an import: the shared pace, the progress message, the settings."""

from __future__ import annotations

import pytest

from kit.config import ConfigError, load_settings
from kit.imports.pacing import AsyncPacer
from kit.imports.progress import (
    ACT_CANCEL_SENDING,
    ACT_PAUSE,
    ACT_RESUME,
    Progress,
    ProgressThrottle,
    Summary,
    progress_blocks,
    summary_text,
    text_bar,
)
from kit.imports.unknown import same_action
from kit.imports.verify import identifier_key
from storage.db import Store
from storage.import_sending import ImportSending


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_two_processes_on_one_database_share_one_pace(tmp_path):
    clock = Clock()
    a = AsyncPacer(ImportSending(Store(tmp_path / "db.sqlite3"), clock=clock), 3600, clock=clock)
    b = AsyncPacer(ImportSending(Store(tmp_path / "db.sqlite3"), clock=clock), 3600, clock=clock)
    sent = 0
    for tick in range(3600 * 10):  # an hour in 0.1 s steps, both asking at every step
        clock.now = 1_000.0 + tick / 10
        for pacer in (a, b):
            if pacer.wait_for_turn(lambda seconds: True):
                sent += 1
    assert 3564 - 2 <= sent <= 3600  # 99 % of the hour's 3,600 between them, never more


def test_a_429_holds_everyone_off_until_retry_after(tmp_path):
    clock = Clock()
    sending = ImportSending(Store(tmp_path / "db.sqlite3"), clock=clock)
    pacer = AsyncPacer(sending, 18_000, clock=clock)
    assert pacer.wait_for_turn(lambda s: True)
    pacer.hold_off(30)
    clock.now += 29
    assert not pacer.wait_for_turn(lambda s: True)
    clock.now += 1.5
    assert pacer.wait_for_turn(lambda s: True)


def test_the_progress_message_shows_the_bar_numbers_and_the_buttons_the_state_allows():
    progress = Progress("imp-1", "<!channel>.csv", "sending", 250, 1000, 300.0, 150.0)
    blocks = progress_blocks(progress)
    text = blocks[0]["text"]["text"]
    assert "&lt;!channel&gt;.csv" in text and "<!channel>" not in text
    assert f"`{text_bar(0.25)}` 25%" in text and "250 of 1,000 rows sent" in text
    assert "300/min" in text and "about 3 min left" in text
    assert [e["action_id"] for e in blocks[1]["elements"]] == [ACT_PAUSE, ACT_CANCEL_SENDING]
    paused = progress_blocks(Progress("imp-1", "a.csv", "paused", 250, 1000, None, None))
    assert [e["action_id"] for e in paused[1]["elements"]] == [ACT_RESUME, ACT_CANCEL_SENDING]
    assert len(progress_blocks(Progress("imp-1", "a.csv", "done", 1000, 1000, None, None))) == 1


def test_the_progress_message_changes_at_most_every_3_seconds_unless_its_state_changes():
    clock = Clock(0.0)
    throttle = ProgressThrottle(clock=clock)
    first = Progress("i", "f", "sending", 1, 10, None, None)
    assert throttle.due(first)
    throttle.shown(first)
    clock.now = 1.0
    assert not throttle.due(Progress("i", "f", "sending", 2, 10, None, None))
    assert throttle.due(Progress("i", "f", "paused", 2, 10, None, None))
    clock.now = 3.0
    assert throttle.due(Progress("i", "f", "sending", 2, 10, None, None))
    assert not throttle.due(first)  # nothing changed since it was shown


def test_the_summary_says_when_it_read_back_a_sample():
    text = summary_text(Summary("a.csv", 5000, 300, 90, 390, 10, 400, True, 12, 0, 0))
    assert (
        "A random sample of 400 of the 5,000 rows sent was read back: 390 found (300 created, 90 updated)"
        in text
    )
    assert "10 not found" in text and "12 rows were skipped for the problems the preview lists" in text
    cancelled = summary_text(Summary("a.csv", 40, 0, 0, 0, 0, 0, False, 0, 0, 60, cancelled=True))
    assert "40 rows were sent before it stopped; 60 were not sent" in cancelled


def test_an_action_is_recognised_by_what_was_sent():
    payment = same_action({"type": "PAYMENT", "amount": "500", "currency": "INR", "status": "COMPLETED"})
    assert payment({"type": "PAYMENT", "amount": "500.00", "currency": "inr", "status": "PENDING"})
    assert not payment({"type": "PAYMENT", "amount": "50", "currency": "INR"})
    custom = same_action({"type": "ACTION_1001", "fields": {"outcome": "Won"}})
    assert custom({"type": "1001", "fields": {"outcome": "Won", "note": "x"}})
    assert not custom({"type": "1001", "fields": {"outcome": "Lost"}})


def test_identifiers_compare_as_digits_or_lower_case_email():
    assert identifier_key("+91 98765-43210") == identifier_key("919876543210")
    assert identifier_key("Jane@Example.com") == "jane@example.com"


@pytest.mark.parametrize("value", ["0", "18001", "fast", "-5"])
def test_the_async_rate_setting_names_what_is_expected(value):
    with pytest.raises(ConfigError) as exc:
        load_settings({"TELECRM_ASYNC_RATE_PER_HOUR": value}, dotenv_path=None)
    assert "TELECRM_ASYNC_RATE_PER_HOUR" in str(exc.value) and "18000" in str(exc.value)


def test_import_settings_default_and_parse():
    settings = load_settings({}, dotenv_path=None)
    assert settings.telecrm_async_rate_per_hour == 18_000 and settings.import_verify_all_max == 1_000
    settings = load_settings(
        {"TELECRM_ASYNC_RATE_PER_HOUR": "9000", "IMPORT_VERIFY_ALL_MAX": "50"}, dotenv_path=None
    )
    assert settings.telecrm_async_rate_per_hour == 9000 and settings.import_verify_all_max == 50
