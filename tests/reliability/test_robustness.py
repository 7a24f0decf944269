"""Arbitrary input through the real app: every slash command's grammar and the New lead form's
inputs. Whatever is typed, Slack gets its acknowledgement, nothing escapes as an error, and the
user always gets an answer."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slack_emulator import ClientValidationError
from tests.conftest import CHANNEL, USER

# text a person could type into Slack: any printable characters, plus the ones our grammars care about
typed = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            [
                "=",
                '"',
                "“",
                ",",
                "..",
                "₹",
                "-5",
                "0",
                "abc",
                "919876543210",
                "INR",
                "PAID",
                "x=",
                "name=",
                "<tel:+1|x>",
                "&amp;",
                "\n",
                " ",
                "find",
                "update",
                "help",
                "01/04/2026",
                "32/13/2026",
                "OUTGOING_CALL",
                "Site Visit",
                "6650a1c2e4b0d3f1a2b3c4d5",
            ]
        ),
        max_size=8,
    ).map(" ".join),
)

RELAXED = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def outputs(emu) -> int:
    """Everything the user could see: messages, thread replies, ephemerals, modals."""
    posted = sum(
        1
        for c in emu.calls
        if c["method"] in {"chat.postMessage", "chat.update", "views.open", "views.update", "views.push"}
        and c["ok"]
    )
    return posted + len(emu.ephemerals(None))


@pytest.fixture
def shared_bot(make_bot):
    return make_bot()


@pytest.mark.parametrize("command", ["/lead", "/payment", "/timeline"])
def test_any_text_gets_an_ack_and_an_answer(shared_bot, command, caplog):
    bot = shared_bot
    caplog.set_level(logging.ERROR)
    seen: list[str] = []

    @RELAXED
    @given(text=typed)
    def check(text: str) -> None:
        before = outputs(bot.emulator)
        seen.append(text)
        delivery = bot.emulator.slash_command(command, text, user=USER, channel=CHANNEL)
        assert delivery.status == 200 and not delivery.timed_out, (text, delivery.status, delivery.body)
        bot.wait(lambda emu: outputs(emu) > before, timeout=15)
        bot.settle()
        for view in bot.emulator.open_views(USER):  # leave no modal open for the next example
            bot.emulator.close_view(user=USER, view_id=view["id"])

    check()
    assert len(seen) >= 10  # hypothesis really explored
    errors = [
        r for r in caplog.records if r.levelno >= logging.ERROR and "unhandled" in r.getMessage().lower()
    ]
    assert errors == []
    assert not bot.emulator.failed_calls(), bot.emulator.failed_calls()[:3]


def text_inputs(view: dict) -> list[str]:
    return [
        b["block_id"]
        for b in view["blocks"]
        if b.get("type") == "input" and b["element"]["type"] == "plain_text_input"
    ]


def test_any_text_in_the_new_lead_form_is_answered(shared_bot):
    bot = shared_bot

    @RELAXED
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        bot.command("/lead", "")
        view = bot.wait(lambda emu: emu.open_views(USER) and emu.open_views(USER)[-1])
        values = {block: data.draw(typed, label=block) for block in text_inputs(view)}
        try:
            delivery = bot.emulator.submit_view(user=USER, view_id=view["id"], values=values)
        except ClientValidationError:
            pass  # Slack's own client refuses it (e.g. a required field left empty) and says so
        else:
            assert delivery.status == 200, delivery.body
            assert not delivery.problems, delivery.problems
        bot.settle()
        for open_view in bot.emulator.open_views(USER):
            bot.emulator.close_view(user=USER, view_id=open_view["id"])

    check()
    assert not bot.emulator.failed_calls(), bot.emulator.failed_calls()[:3]
