"""First start with an empty cache while TeleCRM cannot be reached: the bot still runs, answers every
command in words, and picks the workspace up once TeleCRM is back."""

from __future__ import annotations

import json

from bot.runtime import Runtime
from kit.config import Settings
from slack_emulator import SlackEmulator
from telecrm.sandbox import Sandbox
from tests.conftest import BOT_TOKEN, CHANNEL, SIGNING_SECRET, USER


def test_empty_cache_and_no_telecrm_says_so_then_recovers(tmp_path):
    sandbox = Sandbox()
    sandbox.faults.fail_next(10_000, status=503)  # TeleCRM is down for everything
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    settings = Settings(
        database_path=str(tmp_path / "bot.sqlite3"),
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        telecrm_timeout_seconds=2,
        payment_watch_seconds=0,
    )
    runtime = Runtime(settings, sandbox=sandbox, emulator=emulator, use_sandbox=True, use_emulator=True)
    runtime.build()
    runtime.start_http()
    try:
        assert runtime.health()["cache"]["fields"] == 0
        delivery = emulator.slash_command("/lead", "name=Cold phone=9876500001", user=USER, channel=CHANNEL)
        assert delivery.status == 200 and not delivery.timed_out
        assert "Loading your TeleCRM workspace's fields first" in delivery.body  # kept, not refused
        emulator.wait_for(
            lambda emu: "Your /lead is saved and queued" in json.dumps(emu.ephemerals(USER)), timeout=15
        )
        # the form opens, and says why it cannot be filled in (tests/core/test_cold_forms.py has the rest)
        delivery = emulator.slash_command("/lead", "", user=USER, channel=CHANNEL)
        assert delivery.status == 200 and not delivery.timed_out
        emulator.wait_for(
            lambda emu: (
                "HTTP 503" in json.dumps(emu.open_views(USER))
                and "Nothing was saved" in json.dumps(emu.open_views(USER))
            ),
            timeout=15,
        )
        emulator.close_view(user=USER, clear=True)
        # a payment needs no workspace schema: its form opens anyway (the lead is checked once TeleCRM answers)
        emulator.slash_command("/payment", "", user=USER, channel=CHANNEL)
        emulator.wait_for(lambda emu: [v for v in emu.open_views(USER) if v.get("submit")], timeout=15)
        emulator.close_view(user=USER, clear=True)
        assert sandbox.write_count() == 0

        sandbox.faults.clear()  # TeleCRM is back; an admin refreshes (CLI or App Home)
        runtime.services.cache.refresh()
        assert runtime.health()["cache"]["fields"] > 10
        emulator.slash_command("/lead", "", user=USER, channel=CHANNEL)
        assert emulator.wait_for(lambda emu: emu.open_views(USER), timeout=15)
        # the /lead typed while TeleCRM was down goes through by itself
        emulator.wait_for(
            lambda emu: [x for x in sandbox.leads() if x["fields"].get("name") == "Cold"], timeout=60
        )
    finally:
        runtime.stop()
