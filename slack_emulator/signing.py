"""Request signing exactly as Slack does it, so the bot's verifier is exercised for real."""

from __future__ import annotations

import time

from slack_sdk.signature import SignatureVerifier


def sign_request(signing_secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to every request it sends an app: `v0:{ts}:{body}` HMAC-SHA256."""
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": ts}
