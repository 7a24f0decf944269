"""Sandbox mode: no TeleCRM credential is set, so the embedded TeleCRM sandbox stands in for TeleCRM.

One place says which workspace and tokens the sandbox uses (the variables that are set, demo values for
the others), so that ``telecrm-bot run``, ``cache show``/``cache refresh`` and ``telecrm-bot sandbox``
agree on them: the schema the bot caches is found by ``cache show`` under the same enterprise id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kit.config import Settings


@dataclass(frozen=True)
class SandboxValue:
    """One value the sandbox accepts, and whether it is the demo value (its variable is not set)."""

    variable: str
    label: str
    value: str
    demo: bool


def sandbox_values(settings: Settings) -> list[SandboxValue]:
    from telecrm.sandbox import DEMO_ASYNC_TOKEN, DEMO_ENTERPRISE_ID, DEMO_SYNC_TOKEN

    demo_values = [
        ("TELECRM_ENTERPRISE_ID", "enterprise id", DEMO_ENTERPRISE_ID),
        ("TELECRM_SYNC_TOKEN", "Sync token", DEMO_SYNC_TOKEN),
        ("TELECRM_ASYNC_TOKEN", "Async token", DEMO_ASYNC_TOKEN),
    ]
    return [
        SandboxValue(
            variable,
            label,
            getattr(settings, variable.lower()) or demo,
            not getattr(settings, variable.lower()),
        )
        for variable, label, demo in demo_values
    ]


def sandbox_identity(settings: Settings) -> Settings:
    """``settings`` with the sandbox's enterprise id and tokens, as the bot uses them in sandbox mode."""
    return settings.with_overrides(**{v.variable.lower(): v.value for v in sandbox_values(settings)})


def new_sandbox(settings: Settings, data: dict[str, Any] | None = None) -> Any:
    from telecrm.sandbox import Sandbox, strict_docs_from_env

    identity = sandbox_identity(settings)
    return Sandbox(
        data,
        enterprise_id=identity.telecrm_enterprise_id,
        sync_token=identity.telecrm_sync_token,
        async_token=identity.telecrm_async_token,
        default_country_code=settings.default_country_code,
        # SANDBOX_STRICT_DOCS, also from .env (None: the sandbox reads the environment)
        strict_docs=strict_docs_from_env(settings.extra) or None,
    )


def pointed_at(settings: Settings, sandbox: Any, url: str) -> Settings:
    """``settings`` talking to ``sandbox`` served at ``url``."""
    return settings.with_overrides(
        telecrm_api_url=url + "/autoupdate/v2",
        telecrm_async_api_url=url,
        telecrm_enterprise_id=sandbox.enterprise_id,
        telecrm_sync_token=sandbox.sync_token,
        telecrm_async_token=sandbox.async_token,
        telecrm_lead_url=url + "/_sandbox/leads/{lead_id}",
    )


@contextlib.contextmanager
def serving_sandbox(settings: Settings) -> Iterator[Settings]:
    """An embedded sandbox for the length of a command; yields ``settings`` pointed at it."""
    from telecrm.sandbox import serve_in_thread

    sandbox = new_sandbox(settings)
    running = serve_in_thread(sandbox)
    try:
        yield pointed_at(settings, sandbox, running.url)
    finally:
        running.stop()
