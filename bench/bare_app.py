"""The floor: a Bolt app that only acknowledges ``/lead``, on the bot's own HTTP server.

Same Bolt settings as ``bot/app.py`` (signature checks, listener thread pool, acknowledge-then-run)
and the same waitress server (``bot/server.py``), with no middleware, no SQLite and no work, so the
difference between its acknowledgement latency and the bot's is what the bot's own code costs.

Run by the benchmarks as ``python -m bench.bare_app --port P`` with ``SLACK_SIGNING_SECRET``,
``SLACK_BOT_TOKEN`` and ``SLACK_API_URL`` in the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.server import make_wsgi_app, serve


def build_bare_app(*, signing_secret: str, bot_token: str, api_url: str) -> App:
    app = App(
        name="bare-ack",
        signing_secret=signing_secret,
        client=WebClient(token=bot_token, base_url=api_url),
        request_verification_enabled=True,
        token_verification_enabled=True,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="listener"),
    )

    @app.command("/lead")
    def on_lead(ack: Ack) -> None:
        ack()

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    app = build_bare_app(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        bot_token=os.environ["SLACK_BOT_TOKEN"],
        api_url=os.environ["SLACK_API_URL"],
    )
    wsgi = make_wsgi_app(app, lambda: {"app": "bare"}, signing_secret=os.environ["SLACK_SIGNING_SECRET"])
    serve(wsgi, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
