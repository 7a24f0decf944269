"""Whatever is typed after /lead, the real app answers and never fails (README: /lead grammar)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CHANNEL, USER, Bot
from tests.lead.test_messages import LEAD_WORDS


def visible(bot: Bot) -> int:
    """How many things the user can see: their ephemerals, channel messages and thread replies, modals."""
    messages = bot.messages(CHANNEL)
    replies = sum(len(bot.replies(m["ts"])) for m in messages if m.get("reply_count"))
    return len(bot.ephemerals(USER)) + len(messages) + replies + len(bot.emulator.open_views(USER))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(LEAD_WORDS), max_size=8).map("".join)))
def test_any_text_gets_an_answer(lead_bot: Bot, text: str) -> None:
    bot = lead_bot
    before = visible(bot)
    delivery = bot.command("/lead", text)
    assert not delivery.problems, delivery.problems
    bot.wait(lambda e: visible(bot) > before, timeout=10)
    bot.settle()
    assert not bot.emulator.failed_calls()
    if bot.emulator.open_views(USER):
        bot.emulator.close_view(user=USER, clear=True)
