"""Files people share — in a message (composer attach) or a modal's file_input — as a Bolt app and
slack_sdk see them: the message and its event, the message shortcut payload, files.info and the
private download URLs with Slack's token and visibility checks, and the file_input Block Kit rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_emulator import ClientValidationError, SlackEmulator

from .test_files import error_of

pytestmark = pytest.mark.usefixtures("files_read")

USER = "U0PRIYA"
CSV = b"name,phone\nJane Doe,919999999999\n"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_shared_file_is_a_file_share_message_the_bot_can_read(
    emulator: SlackEmulator, client: WebClient
) -> None:
    file_id, ts = emulator.share_file(USER, "C0SALES", "leads.csv", CSV, "today's leads")
    (message,) = emulator.messages("C0SALES")
    assert (message["ts"], message["subtype"], message["user"], message["text"]) == (
        ts,
        "file_share",
        USER,
        "today's leads",
    )
    assert message["upload"] is True
    (shown,) = message["files"]
    assert {k: shown[k] for k in ("id", "name", "title", "mimetype", "filetype", "size", "user")} == {
        "id": file_id,
        "name": "leads.csv",
        "title": "leads.csv",
        "mimetype": "text/csv",
        "filetype": "csv",
        "size": len(CSV),
        "user": USER,
    }
    assert shown["channels"] == ["C0SALES"] and shown["is_public"] is True
    info = client.files_info(file=file_id)["file"]
    assert info["url_private_download"] == shown["url_private_download"]
    auth = {"Authorization": f"Bearer {client.token}"}
    got = httpx.get(info["url_private_download"], headers=auth)
    assert got.content == CSV and got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-length"] == str(len(CSV))
    assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''leads.csv"
    assert httpx.get(info["url_private"], headers=auth).content == CSV


def test_downloads_need_the_bot_token(emulator: SlackEmulator, client: WebClient) -> None:
    file_id, _ts = emulator.share_file(USER, "C0SALES", "leads.csv", CSV)
    url = client.files_info(file=file_id)["file"]["url_private_download"]
    for headers in ({}, {"Authorization": "Bearer xoxb-not-the-token"}):
        answer = httpx.get(url, headers=headers)
        assert answer.status_code == 302 and answer.content != CSV
    wrong = WebClient(token="xoxb-not-the-token", base_url=emulator.api_url)
    assert error_of(lambda: wrong.files_info(file=file_id))[0] == "invalid_auth"


def test_unknown_and_unseen_files_are_not_found(emulator: SlackEmulator, client: WebClient) -> None:
    assert error_of(lambda: client.files_info(file="F0NOSUCHFILE"))[0] == "file_not_found"
    assert error_of(lambda: client.api_call("files.info", params={}))[0] == "invalid_arguments"
    # #random: the bot is not a member, so it cannot see what is shared there
    file_id, _ts = emulator.share_file(USER, "C0RANDOM", "secret.csv", CSV)
    assert error_of(lambda: client.files_info(file=file_id))[0] == "file_not_found"
    (message,) = emulator.messages("C0RANDOM")
    url = message["files"][0]["url_private_download"]
    assert httpx.get(url, headers={"Authorization": f"Bearer {client.token}"}).status_code == 404


def test_a_spreadsheet_has_its_own_type(emulator: SlackEmulator, client: WebClient) -> None:
    file_id, _ts = emulator.share_file(USER, "C0SALES", "Leads March.xlsx", b"PK\x03\x04rest")
    info = client.files_info(file=file_id)["file"]
    assert (info["filetype"], info["mimetype"], info["pretty_type"]) == (
        "xlsx",
        XLSX_TYPE,
        "Excel Spreadsheet",
    )


@pytest.mark.usefixtures("bolt")
def test_the_message_shortcut_on_a_shared_file_carries_its_files(emulator: SlackEmulator) -> None:
    file_id, ts = emulator.share_file(USER, "C0SALES", "leads.csv", CSV)
    delivery = emulator.message_shortcut(
        user=USER, callback_id="lead_from_message", channel="C0SALES", message_ts=ts
    )
    assert delivery.payload["type"] == "message_action"
    assert [f["id"] for f in delivery.payload["message"]["files"]] == [file_id]
    assert delivery.payload["message"]["subtype"] == "file_share"


@pytest.mark.usefixtures("bolt")
def test_the_message_event_only_when_the_app_subscribes(emulator: SlackEmulator) -> None:
    emulator.bot_events = set()
    emulator.share_file(USER, "C0SALES", "quiet.csv", CSV)
    assert not [d for d in emulator.deliveries if d.kind == "event_callback"]
    emulator.bot_events = {"message.channels"}
    file_id, ts = emulator.share_file(USER, "C0SALES", "loud.csv", CSV, "here")
    (delivery,) = [d for d in emulator.deliveries if d.kind == "event_callback"]
    event = delivery.payload["event"]
    assert (event["type"], event["subtype"], event["channel"], event["ts"]) == (
        "message",
        "file_share",
        "C0SALES",
        ts,
    )
    assert event["channel_type"] == "channel" and [f["id"] for f in event["files"]] == [file_id]
    assert emulator.file_share_event("C0SALES", ts)["files"] == event["files"]


# --- file_input in modals ------------------------------------------------------------------------


def import_modal(element: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "import_leads",
        "title": {"type": "plain_text", "text": "Import leads"},
        "submit": {"type": "plain_text", "text": "Preview"},
        "blocks": [
            {
                "type": "input",
                "block_id": "import_file",
                "label": {"type": "plain_text", "text": "Spreadsheet"},
                "element": element
                or {"type": "file_input", "action_id": "file", "filetypes": ["csv", "xlsx"], "max_files": 1},
            }
        ],
    }


def open_modal(emulator: SlackEmulator, client: WebClient, view: dict[str, Any]) -> str:
    return str(client.views_open(trigger_id=emulator.new_trigger_id(USER), view=view)["view"]["id"])


@pytest.mark.parametrize(
    ("element", "message"),
    [
        (
            {"type": "file_input", "action_id": "f", "max_files": 11},
            "[ERROR] must be at most 10 [json-pointer:/view/blocks/0/element/max_files]",
        ),
        (
            {"type": "file_input", "action_id": "f", "max_files": 0},
            "[ERROR] must be at least 1 [json-pointer:/view/blocks/0/element/max_files]",
        ),
        (
            {"type": "file_input", "action_id": "f", "filetypes": "csv"},
            "[ERROR] must provide an array [json-pointer:/view/blocks/0/element/filetypes]",
        ),
    ],
)
def test_file_input_is_checked_as_slack_documents(
    client: WebClient, emulator: SlackEmulator, element: dict[str, Any], message: str
) -> None:
    error, messages = error_of(lambda: open_modal(emulator, client, import_modal(element)))
    assert error == "invalid_arguments" and message in messages


def test_file_input_only_in_modals(client: WebClient) -> None:
    home = {"type": "home", "blocks": import_modal()["blocks"]}
    error, messages = error_of(lambda: client.views_publish(user_id=USER, view=home))
    assert error == "invalid_arguments"
    assert any("file_input is only supported in modals" in m for m in messages)


@pytest.mark.usefixtures("bolt")
def test_a_file_submitted_in_a_modal_reaches_the_app_and_becomes_readable(
    emulator: SlackEmulator, client: WebClient
) -> None:
    view_id = open_modal(emulator, client, import_modal())
    delivery = emulator.submit_view_with_files(
        user=USER, view_id=view_id, files={"import_file": [("leads.csv", CSV)]}
    )
    state = delivery.payload["view"]["state"]["values"]["import_file"]["file"]
    assert state["type"] == "file_input"
    (sent,) = state["files"]
    assert (sent["name"], sent["filetype"], sent["size"], sent["user"]) == (
        "leads.csv",
        "csv",
        len(CSV),
        USER,
    )
    assert sent["channels"] == []  # private to the person, shared with the app only
    assert client.files_info(file=sent["id"])["file"]["id"] == sent["id"]
    got = httpx.get(sent["url_private_download"], headers={"Authorization": f"Bearer {client.token}"})
    assert got.content == CSV


def test_a_file_picked_but_not_submitted_stays_private(emulator: SlackEmulator, client: WebClient) -> None:
    picked = emulator.upload_modal_file(user=USER, name="draft.csv", data=CSV)
    assert error_of(lambda: client.files_info(file=picked["id"]))[0] == "file_not_found"


@pytest.mark.parametrize(
    ("files", "shown"),
    [
        ([("leads.pdf", b"%PDF")], "leads.pdf is not an accepted file type (csv, xlsx)."),
        ([("a.csv", CSV), ("b.csv", CSV)], "You can upload up to 1 file."),
        ([], "Please fill out this field."),
        ([("huge.csv", b"x" * (10 * 1024 * 1024 + 1))], "huge.csv is larger than 10 MB."),
    ],
)
def test_the_slack_client_refuses_files_that_do_not_fit(
    emulator: SlackEmulator, client: WebClient, files: list[tuple[str, bytes]], shown: str
) -> None:
    view_id = open_modal(emulator, client, import_modal())
    with pytest.raises(ClientValidationError) as refused:
        emulator.submit_view_with_files(user=USER, view_id=view_id, files={"import_file": files})
    assert refused.value.errors == {"import_file": shown}
    assert not emulator.deliveries  # nothing was sent to the app


def test_a_file_shared_in_the_apps_dm_is_readable_by_the_bot(
    emulator: SlackEmulator, client: WebClient
) -> None:
    file_id, _ts = emulator.share_file(USER, "D" + USER[1:], "mine.csv", CSV)
    assert client.files_info(file=file_id)["file"]["ims"] == ["D" + USER[1:]]


def test_the_bot_uploads_a_report_into_a_thread(emulator: SlackEmulator, client: WebClient) -> None:
    _file_id, ts = emulator.share_file(USER, "C0SALES", "leads.csv", CSV)
    report = b"row,reason\n3,phone is missing\n"
    client.files_upload_v2(
        content=report,
        filename="problem-rows.csv",
        channel="C0SALES",
        thread_ts=ts,
        initial_comment="Problems",
    )
    (reply,) = emulator.replies("C0SALES", ts)
    (shown,) = reply["files"]
    assert (reply["text"], shown["name"], shown["mimetype"]) == ("Problems", "problem-rows.csv", "text/csv")
    got = httpx.get(shown["url_private_download"], headers={"Authorization": f"Bearer {client.token}"})
    assert got.content == report


def test_files_info_needs_the_files_read_scope(emulator: SlackEmulator, client: WebClient) -> None:
    file_id, _ts = emulator.share_file(USER, "C0SALES", "leads.csv", CSV)
    assert emulator.bot_scopes is not None
    emulator.bot_scopes.discard("files:read")
    with pytest.raises(SlackApiError) as refused:
        client.files_info(file=file_id)
    answer = refused.value.response
    assert (answer["error"], answer["needed"]) == ("missing_scope", "files:read")
    assert "files:write" in answer["provided"].split(",")


def test_a_modal_with_a_file_input_needs_the_files_read_scope(
    emulator: SlackEmulator, client: WebClient
) -> None:
    assert emulator.bot_scopes is not None
    emulator.bot_scopes.discard("files:read")
    with pytest.raises(SlackApiError) as refused:
        open_modal(emulator, client, import_modal())
    assert (refused.value.response["error"], refused.value.response["needed"]) == (
        "missing_scope",
        "files:read",
    )
