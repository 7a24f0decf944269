"""Every Block Kit rule the emulator enforces: one surface Slack refuses, one it accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from slack_emulator import validate_message_blocks, validate_view

from .blocks import (
    actions,
    button,
    input_block,
    modal,
    mrkdwn,
    option,
    options,
    plain,
    section,
    static_select,
)

Case = tuple[str, Callable[[], Any], Callable[[], Any]]

MESSAGE_CASES: list[Case] = [
    ("<=50 blocks per message", lambda: [section()] * 51, lambda: [section()] * 50),
    ("section text <=3000", lambda: [section("x" * 3001)], lambda: [section("x" * 3000)]),
    (
        "<=10 section fields",
        lambda: [{"type": "section", "fields": [mrkdwn("f")] * 11}],
        lambda: [{"type": "section", "fields": [mrkdwn("f")] * 10}],
    ),
    (
        "section field <=2000",
        lambda: [{"type": "section", "fields": [mrkdwn("x" * 2001)]}],
        lambda: [{"type": "section", "fields": [mrkdwn("x" * 2000)]}],
    ),
    ("section needs text or fields", lambda: [{"type": "section"}], lambda: [section()]),
    ("empty text", lambda: [section("")], lambda: [section("a")]),
    (
        "header <=150",
        lambda: [{"type": "header", "text": plain("x" * 151)}],
        lambda: [{"type": "header", "text": plain("x" * 150)}],
    ),
    (
        "header is plain_text",
        lambda: [{"type": "header", "text": mrkdwn("x")}],
        lambda: [{"type": "header", "text": plain("x")}],
    ),
    ("block_id <=255", lambda: [section(block_id="b" * 256)], lambda: [section(block_id="b" * 255)]),
    (
        "block_id unique",
        lambda: [section(block_id="a"), section(block_id="a")],
        lambda: [section(block_id="a"), section(block_id="b")],
    ),
    (
        "action_id <=255",
        lambda: [actions(button(action_id="a" * 256))],
        lambda: [actions(button(action_id="a" * 255))],
    ),
    (
        "action_id unique within a block",
        lambda: [actions(button(action_id="a"), button(action_id="a"))],
        lambda: [actions(button(action_id="a"), button(action_id="b"))],
    ),
    ("button text <=75", lambda: [actions(button("x" * 76))], lambda: [actions(button("x" * 75))]),
    (
        "button value <=2000",
        lambda: [actions(button(value="v" * 2001))],
        lambda: [actions(button(value="v" * 2000))],
    ),
    ("button style", lambda: [actions(button(style="green"))], lambda: [actions(button(style="danger"))]),
    (
        "url <=3000",
        lambda: [actions(button(url="https://x.example/" + "a" * 2990))],
        lambda: [actions(button(url="https://x.example/" + "a" * 2900))],
    ),
    (
        "<=25 elements in actions",
        lambda: [actions(*[button(action_id=f"a{i}") for i in range(26)])],
        lambda: [actions(*[button(action_id=f"a{i}") for i in range(25)])],
    ),
    ("actions not empty", lambda: [actions()], lambda: [actions(button())]),
    (
        "<=10 context elements",
        lambda: [{"type": "context", "elements": [mrkdwn("c")] * 11}],
        lambda: [{"type": "context", "elements": [mrkdwn("c")] * 10}],
    ),
    (
        "no buttons in context",
        lambda: [{"type": "context", "elements": [button()]}],
        lambda: [
            {
                "type": "context",
                "elements": [{"type": "image", "image_url": "https://x.example/a.png", "alt_text": "a"}],
            }
        ],
    ),
    (
        "static select <=100 options",
        lambda: [actions(static_select(options(101)))],
        lambda: [actions(static_select(options(100)))],
    ),
    (
        "static select <=100 option groups",
        lambda: [
            actions(
                {
                    "type": "static_select",
                    "action_id": "g",
                    "option_groups": [
                        {"label": plain(f"G{i}"), "options": [option("a", f"v{i}")]} for i in range(101)
                    ],
                }
            )
        ],
        lambda: [
            actions(
                {
                    "type": "static_select",
                    "action_id": "g",
                    "option_groups": [
                        {"label": plain(f"G{i}"), "options": [option("a", f"v{i}")]} for i in range(100)
                    ],
                }
            )
        ],
    ),
    (
        "options xor option_groups",
        lambda: [actions({"type": "static_select", "action_id": "s"})],
        lambda: [actions(static_select())],
    ),
    (
        "option text <=75",
        lambda: [actions(static_select([option("x" * 76, "v")]))],
        lambda: [actions(static_select([option("x" * 75, "v")]))],
    ),
    (
        "option value <=150",
        lambda: [actions(static_select([option("x", "v" * 151)]))],
        lambda: [actions(static_select([option("x", "v" * 150)]))],
    ),
    (
        "option values unique",
        lambda: [actions(static_select([option("a", "v"), option("b", "v")]))],
        lambda: [actions(static_select([option("a", "v"), option("b", "w")]))],
    ),
    (
        "initial_option is one of the options",
        lambda: [actions(static_select(initial_option=option("Nope", "zz")))],
        lambda: [actions(static_select(initial_option=option("Option 1", "v1")))],
    ),
    (
        "placeholder <=150",
        lambda: [actions(static_select(placeholder=plain("p" * 151)))],
        lambda: [actions(static_select(placeholder=plain("p" * 150)))],
    ),
    ("no input blocks in messages", lambda: [input_block()], lambda: [section()]),
    ("unknown block type", lambda: [{"type": "carousel_of_doom"}], lambda: [{"type": "divider"}]),
    (
        "unknown element type",
        lambda: [actions({"type": "slider", "action_id": "s"})],
        lambda: [actions(button())],
    ),
    ("unknown property", lambda: [section(colour="red")], lambda: [section(expand=True)]),
    (
        "image needs alt_text",
        lambda: [{"type": "image", "image_url": "https://x.example/a.png"}],
        lambda: [{"type": "image", "image_url": "https://x.example/a.png", "alt_text": "a"}],
    ),
    (
        "datepicker date format",
        lambda: [actions({"type": "datepicker", "action_id": "d", "initial_date": "30/04/2026"})],
        lambda: [actions({"type": "datepicker", "action_id": "d", "initial_date": "2026-04-30"})],
    ),
    (
        "overflow 2..5 options",
        lambda: [section(accessory={"type": "overflow", "action_id": "o", "options": options(6)})],
        lambda: [section(accessory={"type": "overflow", "action_id": "o", "options": options(5)})],
    ),
    (
        "confirm dialog fields",
        lambda: [actions(button(confirm={"title": plain("Sure?"), "text": plain("Really")}))],
        lambda: [
            actions(
                button(
                    confirm={
                        "title": plain("Sure?"),
                        "text": plain("Really"),
                        "confirm": plain("Yes"),
                        "deny": plain("No"),
                    }
                )
            )
        ],
    ),
    ("blocks must be an array", lambda: {"type": "section"}, lambda: []),
]

VIEW_CASES: list[Case] = [
    (
        "<=100 blocks per view",
        lambda: modal([section()] * 100 + [input_block()]),
        lambda: modal([section()] * 99 + [input_block()]),
    ),
    ("title <=24", lambda: modal(title=plain("x" * 25)), lambda: modal(title=plain("x" * 24))),
    ("submit <=24", lambda: modal(submit=plain("x" * 25)), lambda: modal(submit=plain("x" * 24))),
    ("close <=24", lambda: modal(close=plain("x" * 25)), lambda: modal(close=plain("x" * 24))),
    ("title is plain_text", lambda: modal(title=mrkdwn("x")), lambda: modal(title=plain("x"))),
    (
        "private_metadata <=3000",
        lambda: modal(private_metadata="m" * 3001),
        lambda: modal(private_metadata="m" * 3000),
    ),
    ("callback_id <=255", lambda: modal(callback_id="c" * 256), lambda: modal(callback_id="c" * 255)),
    ("external_id <=255", lambda: modal(external_id="e" * 256), lambda: modal(external_id="e" * 255)),
    (
        "input label <=2000",
        lambda: modal([input_block(label="l" * 2001)]),
        lambda: modal([input_block(label="l" * 2000)]),
    ),
    (
        "input hint <=2000",
        lambda: modal([input_block(hint=plain("h" * 2001))]),
        lambda: modal([input_block(hint=plain("h" * 2000))]),
    ),
    (
        "input needs an element",
        lambda: modal([{"type": "input", "label": plain("x")}]),
        lambda: modal([input_block()]),
    ),
    (
        "buttons are not input elements",
        lambda: modal([input_block(button())]),
        lambda: modal([input_block(static_select())]),
    ),
    (
        "number_input needs is_decimal_allowed",
        lambda: modal([input_block({"type": "number_input", "action_id": "n"})]),
        lambda: modal([input_block({"type": "number_input", "action_id": "n", "is_decimal_allowed": False})]),
    ),
    (
        "plain_text_input max_length <=3000",
        lambda: modal([input_block({"type": "plain_text_input", "max_length": 3001})]),
        lambda: modal([input_block({"type": "plain_text_input", "max_length": 3000})]),
    ),
    (
        "block_id unique in a view",
        lambda: modal([input_block(), input_block()]),
        lambda: modal([input_block(), input_block(block_id="other")]),
    ),
    (
        "modal with inputs needs submit",
        lambda: {k: v for k, v in modal().items() if k != "submit"},
        lambda: {k: v for k, v in modal([section()]).items() if k != "submit"},
    ),
    ("modal needs a title", lambda: {k: v for k, v in modal().items() if k != "title"}, lambda: modal()),
    ("view type", lambda: modal(type="sheet"), lambda: modal(type="modal")),
    (
        "home has no submit",
        lambda: {"type": "home", "blocks": [section()], "submit": plain("x")},
        lambda: {"type": "home", "blocks": [section()]},
    ),
    ("unknown view property", lambda: modal(colour="red"), lambda: modal(notify_on_close=True)),
    (
        "multi select initial_options match",
        lambda: modal(
            [
                input_block(
                    {
                        "type": "multi_static_select",
                        "action_id": "m",
                        "options": options(3),
                        "initial_options": [option("x", "nope")],
                    }
                )
            ]
        ),
        lambda: modal(
            [
                input_block(
                    {
                        "type": "multi_static_select",
                        "action_id": "m",
                        "options": options(3),
                        "initial_options": [option("Option 0", "v0")],
                    }
                )
            ]
        ),
    ),
]


@pytest.mark.parametrize(("rule", "bad", "good"), MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES])
def test_message_rule(rule: str, bad: Callable[[], Any], good: Callable[[], Any]) -> None:
    assert validate_message_blocks(bad()), f"{rule}: should be refused"
    assert validate_message_blocks(good()) == [], f"{rule}: should be accepted"


@pytest.mark.parametrize(("rule", "bad", "good"), VIEW_CASES, ids=[c[0] for c in VIEW_CASES])
def test_view_rule(rule: str, bad: Callable[[], Any], good: Callable[[], Any]) -> None:
    assert validate_view(bad())[0], f"{rule}: should be refused"
    assert validate_view(good())[0] == [], f"{rule}: should be accepted"


def test_messages_point_at_the_problem_like_slack() -> None:
    (problem,) = validate_message_blocks([section(), section("x" * 3001)])
    assert problem == "[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]"


def test_read_only_view_fields_are_tolerated_with_a_warning() -> None:
    errors, warnings = validate_view(modal(id="V123", hash="1.abc", state={"values": {}}))
    assert errors == [] and "read-only" in warnings[0]


def test_every_element_type_the_bot_uses_in_a_modal_is_accepted() -> None:
    elements = [
        {"type": "plain_text_input", "action_id": "a", "multiline": True, "max_length": 500},
        {"type": "email_text_input", "action_id": "a"},
        {"type": "url_text_input", "action_id": "a"},
        {"type": "number_input", "action_id": "a", "is_decimal_allowed": True, "min_value": "0.5"},
        {"type": "datepicker", "action_id": "a", "initial_date": "2026-01-31"},
        {"type": "datetimepicker", "action_id": "a", "initial_date_time": 1767225600},
        {"type": "timepicker", "action_id": "a", "initial_time": "09:30"},
        static_select(initial_option=option("Option 0", "v0")),
        {"type": "multi_static_select", "action_id": "a", "options": options(5), "max_selected_items": 3},
        {
            "type": "external_select",
            "action_id": "a",
            "min_query_length": 0,
            "initial_option": option("Pune", "pune"),
        },
        {"type": "users_select", "action_id": "a", "initial_user": "U0PRIYA"},
        {"type": "checkboxes", "action_id": "a", "options": [{"text": mrkdwn("*a*"), "value": "a"}]},
        {"type": "radio_buttons", "action_id": "a", "options": options(2)},
    ]
    view = modal([input_block(el, block_id=f"b{i}") for i, el in enumerate(elements)])
    assert validate_view(view) == ([], [])


def test_options_answer_limits() -> None:
    from slack_emulator.blockkit import validate_options_answer

    offered, problems = validate_options_answer({"options": options(100)})
    assert len(offered) == 100 and problems == []
    assert validate_options_answer({"options": options(101)})[1]
    assert validate_options_answer({"options": [option("x" * 76, "v")]})[1]
    assert validate_options_answer({"option_groups": [{"label": plain("G"), "options": options(2)}]})[1] == []
    assert validate_options_answer({"text": "not options"})[1]
