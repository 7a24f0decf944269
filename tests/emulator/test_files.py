"""Files over real HTTP with slack_sdk: the external upload in three steps, files.info, url_private,
image blocks that show an uploaded file (``slack_file``), and the page serving it."""

from __future__ import annotations

import struct
import zlib

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_emulator import SlackEmulator

pytestmark = pytest.mark.usefixtures("files_read")

CHANNEL = "C0SALES"
USER = "U0PRIYA"


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid PNG of the given size (white pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def error_of(call: object) -> tuple[str, list[str]]:
    with pytest.raises(SlackApiError) as info:
        call()  # type: ignore[operator]
    response = info.value.response
    return str(response["error"]), list((response.get("response_metadata") or {}).get("messages") or [])


def image_block(file_id: str) -> dict:
    return {"type": "image", "slack_file": {"id": file_id}, "alt_text": "a chart"}


def test_upload_in_three_steps_then_show_it_in_a_message(emulator: SlackEmulator, client: WebClient) -> None:
    png = tiny_png(40, 20)
    step1 = client.files_getUploadURLExternal(filename="chart.png", length=len(png))
    upload_url, file_id = step1["upload_url"], step1["file_id"]
    assert upload_url.startswith(emulator.url + "/upload/v1/") and file_id.startswith("F")
    # before the bytes arrive and the upload is completed, the file cannot be shown
    blocks = [image_block(file_id)]
    error, messages = error_of(lambda: client.chat_postMessage(channel=CHANNEL, text="chart", blocks=blocks))
    assert error == "invalid_blocks" and messages == [
        "[ERROR] invalid slack file [json-pointer:/blocks/0/slack_file]"
    ]
    assert httpx.post(upload_url, content=png).text == f"OK - {len(png)}"
    done = client.files_completeUploadExternal(files=[{"id": file_id, "title": "Pipeline"}])
    (file,) = done["files"]
    assert file["id"] == file_id and file["title"] == "Pipeline" and file["mimetype"] == "image/png"
    assert (file["original_w"], file["original_h"]) == (40, 20) and file["size"] == len(png)
    assert file["channels"] == [] and file["is_public"] is False  # private: no channel was given
    assert client.files_info(file=file_id)["file"]["url_private"] == file["url_private"]
    posted = client.chat_postMessage(channel=CHANNEL, text="chart", blocks=blocks)
    assert posted["message"]["blocks"][0]["slack_file"] == {"id": file_id}
    # url_private needs the token, as on Slack's file servers
    # without the token Slack's file servers send a browser to the sign-in page: no bytes, no JSON
    unsigned = httpx.get(file["url_private"])
    assert unsigned.status_code == 302 and unsigned.headers["location"].startswith("/?redir=")
    assert (
        httpx.get(file["url_private"], follow_redirects=True).headers["content-type"].startswith("text/html")
    )
    got = httpx.get(file["url_private"], headers={"Authorization": f"Bearer {client.token}"})
    assert got.content == png and got.headers["content-type"] == "image/png"
    # the page (the Slack client) shows it
    page = httpx.get(f"{emulator.url}/ui/files/{file_id}")
    assert page.status_code == 200 and page.content == png
    assert [c["method"] for c in emulator.calls if c["method"].startswith(("files.", "upload"))] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
        "files.info",
    ]


def test_the_sdk_upload_helper_works_and_a_url_reference_too(client: WebClient) -> None:
    png = tiny_png()
    answer = client.files_upload_v2(content=png, filename="funnel.png", title="Funnel")
    file = answer["file"]
    blocks = [{"type": "image", "slack_file": {"url": file["url_private"]}, "alt_text": "funnel"}]
    assert client.chat_postMessage(channel=CHANNEL, text="funnel", blocks=blocks)["ok"]
    home = {"type": "home", "blocks": [{"type": "image", "slack_file": {"id": file["id"]}, "alt_text": "x"}]}
    assert client.views_publish(user_id=USER, view=home)["ok"]


def test_refusals(emulator: SlackEmulator, client: WebClient) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=emulator.api_url)
    assert error_of(lambda: wrong.files_getUploadURLExternal(filename="x.png", length=3))[0] == "invalid_auth"
    assert error_of(lambda: wrong.files_info(file="F1"))[0] == "invalid_auth"
    assert (
        error_of(lambda: client.files_getUploadURLExternal(filename="x.png", length=0))[0]
        == "missing_argument"
    )
    assert error_of(lambda: client.api_call("files.getUploadURLExternal", params={"length": 3}))[0] == (
        "invalid_arguments"
    )
    assert error_of(lambda: client.files_completeUploadExternal(files=[{"id": "F0NOSUCHFILE"}]))[0] == (
        "file_not_found"
    )
    small = client.files_getUploadURLExternal(filename="big.png", length=10)
    assert (
        httpx.post(small["upload_url"], content=b"x" * (200 * 1024)).status_code == 413
    )  # more than promised
    step1 = client.files_getUploadURLExternal(filename="notes.txt", length=5)
    # completing a file whose bytes never arrived
    assert error_of(lambda: client.files_completeUploadExternal(files=[{"id": step1["file_id"]}]))[0] == (
        "file_not_found"
    )
    httpx.post(step1["upload_url"], content=b"hello")
    client.files_completeUploadExternal(files=[{"id": step1["file_id"]}])
    # an upload URL is used once
    assert httpx.post(step1["upload_url"], content=b"again").status_code == 404
    # not an image
    blocks = [image_block(step1["file_id"])]
    assert (
        error_of(lambda: client.chat_postMessage(channel=CHANNEL, text="x", blocks=blocks))[0]
        == "invalid_blocks"
    )
    # both ways of naming a file at once
    both = [{"type": "image", "slack_file": {"id": "F1", "url": "https://x"}, "alt_text": "x"}]
    assert (
        error_of(lambda: client.chat_postMessage(channel=CHANNEL, text="x", blocks=both))[0]
        == "invalid_blocks"
    )
    assert error_of(lambda: client.files_info(file="F0NOSUCHFILE"))[0] == "file_not_found"
    assert httpx.get(f"{emulator.url}/ui/files/{step1['file_id']}").status_code == 404  # shown: images only
    assert httpx.get(f"{emulator.url}/ui/files/{step1['file_id']}?download=1").content == b"hello"


def test_completing_with_a_channel_shares_the_file_there(emulator: SlackEmulator, client: WebClient) -> None:
    png = tiny_png()
    step1 = client.files_getUploadURLExternal(filename="c.png", length=len(png))
    httpx.post(step1["upload_url"], content=png)
    done = client.files_completeUploadExternal(
        files=[{"id": step1["file_id"]}], channel_id=CHANNEL, initial_comment="Today's chart"
    )
    assert done["files"][0]["channels"] == [CHANNEL] and done["files"][0]["is_public"] is True
    (message,) = emulator.messages(CHANNEL)
    assert message["text"] == "Today's chart" and message["files"][0]["id"] == step1["file_id"]
