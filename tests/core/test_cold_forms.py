"""Every form on a cold start (nothing cached) while TeleCRM is slow or down, through the real app,
the Slack emulator and the sandbox.

What a person sees: the form's modal opens at once with "Loading your workspace's fields…" (within the
click's 3-second trigger, before any TeleCRM call), and becomes the real form in place when the
workspace arrives — or, when TeleCRM stays down, says why and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kit import ids
from kit.cards import render_lead_card
from tests.conftest import CHANNEL, USER, Bot

PHONE = "919812300001"
LOADING = "Loading your workspace's fields"


@dataclass
class Card:
    lead_id: str
    ts: str


def shown(view: dict[str, Any]) -> str:
    return json.dumps(view.get("blocks") or [], ensure_ascii=False)


def cold_bot(make_bot: Callable[..., Bot], arm: Callable[[Any], None], **settings: Any) -> tuple[Bot, Card]:
    """A bot with nothing cached, a lead card in the channel (posted before a restart emptied the
    cache), and TeleCRM's faults armed before the bot's own warm-up fetch starts."""
    card: list[Card] = []

    def prepare(runtime: Any) -> None:
        services = runtime.services
        made = services.telecrm.create_lead({"phone": PHONE, "name": "Jane Doe"})
        schema = services.telecrm.fetch_schema()  # read directly: the bot's cache stays empty
        fields = {"phone": PHONE, "name": "Jane Doe"}
        text, blocks = render_lead_card(services, schema, made.lead_id, fields)
        answer = services.slack.chat_postMessage(channel=CHANNEL, text=text, blocks=blocks)
        services.threads.remember(
            made.lead_id, answer["channel"], answer["ts"], identifier=PHONE, name="Jane"
        )
        card.append(Card(made.lead_id, answer["ts"]))
        arm(runtime.sandbox.faults)

    bot = make_bot(cold=True, prepare=prepare, payment_watch_seconds=0, **settings)
    assert bot.services.cache.cached() is None
    return bot, card[0]


def open_form(bot: Bot, card: Card, form: str) -> None:
    """The gesture that opens ``form``, as a person makes it."""
    emulator = bot.emulator
    if form == "lead":
        bot.command("/lead")
    elif form == "payment":
        bot.command("/payment")
    elif form == "timeline":
        bot.command("/timeline")
    elif form == "lead from message":
        ts = emulator.post_user_message(user=USER, channel=CHANNEL, text="Call Ravi on 98765 43210")
        emulator.message_shortcut(
            user=USER, callback_id=ids.SHORTCUT_LEAD_FROM_MESSAGE, channel=CHANNEL, message_ts=ts
        )
    else:
        action = {"activity": ids.ACT_CARD_ACTIVITY, "edit": ids.ACT_CARD_EDIT}[form]
        emulator.click_button(
            user=USER, action_id=action, channel=CHANNEL, message_ts=card.ts, value=card.lead_id
        )


CALLBACKS = {
    "lead": ids.VIEW_LEAD_CREATE,
    "lead from message": ids.VIEW_LEAD_CREATE,
    "payment": ids.VIEW_PAYMENT,
    "timeline": ids.VIEW_TIMELINE,
    "activity": ids.VIEW_ACTIVITY,
    "edit": ids.VIEW_LEAD_EDIT,
}
FORMS = list(CALLBACKS)


def first_opened(bot: Bot) -> dict[str, Any]:
    """The view the bot's (only) views.open showed."""
    (call,) = bot.emulator.calls_to("views.open")
    assert call["ok"], call["error"]
    view = call["args"]["view"]
    return json.loads(view) if isinstance(view, str) else view


@pytest.mark.parametrize("form", FORMS)
def test_a_slow_telecrm_on_a_cold_start_shows_loading_then_the_form(make_bot, form):
    def slow(faults: Any) -> None:
        faults.latency = 1.5  # the workspace takes longer to read than the click's 3 s trigger lasts

    bot, card = cold_bot(make_bot, slow)
    open_form(bot, card, form)
    (loading,) = bot.wait(lambda e: e.open_views(USER))
    opened = first_opened(bot)
    assert (LOADING if form != "edit" else "Reading") in shown(opened)
    assert not opened.get("submit")

    real = bot.wait(
        lambda e: [
            v for v in e.open_views(USER) if v.get("callback_id") == CALLBACKS[form] and v.get("submit")
        ],
        timeout=30,
    )
    (view,) = real
    assert view["id"] == loading["id"], "the loading modal is replaced in place"
    assert LOADING not in shown(view)
    assert bot.emulator.failed_calls() == []
    if form in ("lead", "lead from message"):
        assert "phone" in [b.get("block_id") for b in view["blocks"]]
    if form == "payment":
        assert "Lead id or phone" in shown(view)  # the workspace's identifier, read from TeleCRM


def test_the_new_lead_form_loaded_on_a_cold_start_creates_the_lead(make_bot):
    bot, card = cold_bot(make_bot, lambda faults: setattr(faults, "latency", 1.0))
    bot.command("/lead")
    bot.wait(lambda e: [v for v in e.open_views(USER) if v.get("submit")], timeout=30)
    bot.sandbox.faults.latency = 0
    answer = bot.emulator.submit_view(user=USER, values={"phone": "9876512345", "name": "Cold Start Chandra"})
    assert answer.status == 200 and not (answer.json or {}).get("errors")
    bot.wait(lambda e: any("Cold Start Chandra" in json.dumps(m) for m in e.messages(CHANNEL)), timeout=20)
    bot.settle()
    assert [x for x in bot.sandbox.leads() if x["fields"].get("name") == "Cold Start Chandra"]


def _timed_out(faults: Any) -> None:
    faults.latency = 3  # longer than TELECRM_TIMEOUT_SECONDS=1: every request times out


def _token_refused(faults: Any) -> None:
    faults.fail_next(100_000, status=401)


@pytest.mark.parametrize("form", FORMS)
def test_telecrm_down_on_a_cold_start_the_loading_modal_says_why_and_what_to_do(make_bot, form):
    bot, card = cold_bot(make_bot, _timed_out, telecrm_timeout_seconds=1)
    open_form(bot, card, form)
    (loading,) = bot.wait(lambda e: e.open_views(USER))
    if form == "payment":  # a payment needs no fields: the form opens anyway and queues until TeleCRM answers
        (view,) = bot.wait(lambda e: [v for v in e.open_views(USER) if v.get("submit")], timeout=30)
        text = shown(view)
        assert "TeleCRM is not answering (timed out after 1 s)" in text
        assert "will be sent automatically" in text
        return
    (view,) = bot.wait(
        lambda e: [v for v in e.open_views(USER) if "TeleCRM is not answering" in shown(v)], timeout=30
    )
    text = shown(view)
    assert view["id"] == loading["id"]
    assert "timed out after 1 s" in text
    assert "Try again in a minute" in text and "TELECRM_API_URL" in text
    assert "Nothing was" in text
    assert not view.get("submit")
    assert bot.telecrm_writes() == 1  # the lead made before the start; nothing since


@pytest.mark.parametrize("form", ["lead", "payment", "activity"])
def test_a_refused_token_on_a_cold_start_is_explained_in_the_modal(make_bot, form):
    bot, card = cold_bot(make_bot, _token_refused)
    open_form(bot, card, form)
    (view,) = bot.wait(
        lambda e: [v for v in e.open_views(USER) if "refused the bot's token" in shown(v)], timeout=30
    )
    text = shown(view)
    assert "Nothing was saved" in text and "TELECRM_SYNC_TOKEN" in text
    assert not view.get("submit")


def test_a_lead_typed_on_a_cold_start_is_kept_and_created_once_the_fields_arrive(make_bot):
    bot, _card = cold_bot(make_bot, lambda faults: setattr(faults, "latency", 2.0))
    delivery = bot.command("/lead", 'name="Typed Early" phone=9876512399 rating=4')
    assert "Loading your TeleCRM workspace's fields first" in delivery.body
    bot.wait(lambda e: any("Typed Early" in json.dumps(m) for m in e.messages(CHANNEL)), timeout=30)
    bot.settle()
    made = [x for x in bot.sandbox.leads() if x["fields"].get("name") == "Typed Early"]
    assert len(made) == 1 and str(made[0]["fields"].get("rating")) == "4"


def test_a_mistake_typed_on_a_cold_start_is_answered_once_the_fields_arrive(make_bot):
    bot, _card = cold_bot(make_bot, lambda faults: setattr(faults, "latency", 2.0))
    writes = bot.telecrm_writes()
    delivery = bot.command("/lead", "phone=9876512398 colour=red")
    assert "Loading your TeleCRM workspace's fields first" in delivery.body
    said = bot.wait(lambda e: [m for m in e.ephemerals(USER) if "colour" in json.dumps(m)], timeout=30)
    assert "colour" in json.dumps(said[-1]) and "Loading" not in json.dumps(said[-1])
    bot.settle()
    assert bot.telecrm_writes() == writes  # nothing was written


def test_a_lead_typed_while_telecrm_is_down_is_kept_and_the_person_told_why(make_bot):
    bot, _card = cold_bot(make_bot, _timed_out, telecrm_timeout_seconds=1)
    bot.command("/lead", 'name="Typed While Down" phone=9876512397')
    said = bot.wait(
        lambda e: [m for m in e.ephemerals(USER) if "TeleCRM is not answering" in json.dumps(m)], timeout=30
    )
    assert "Your /lead is saved and queued" in json.dumps(said[-1])
    bot.sandbox.faults.latency = 0  # TeleCRM is back: the kept command goes through by itself
    bot.wait(lambda e: any("Typed While Down" in json.dumps(m) for m in e.messages(CHANNEL)), timeout=60)


def test_try_again_on_the_explanation_loads_the_form_once_telecrm_answers(make_bot):
    bot, _card = cold_bot(make_bot, _timed_out, telecrm_timeout_seconds=1)
    bot.command("/lead")
    (view,) = bot.wait(
        lambda e: [v for v in e.open_views(USER) if "TeleCRM is not answering" in shown(v)], timeout=30
    )
    assert "Try again" in shown(view)
    bot.sandbox.faults.latency = 0  # TeleCRM is back
    bot.emulator.click_button(user=USER, action_id=ids.ACT_FORM_RETRY, view_id=view["id"])
    (form,) = bot.wait(lambda e: [v for v in e.open_views(USER) if v.get("submit")], timeout=30)
    assert form["id"] == view["id"]  # the same modal, now the New lead form
    assert "Phone" in shown(form)
