"""Workspaces whose leads were created at known moments, and reading what a /pipeline report shows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telecrm.sandbox import demo_workspace

IST = ZoneInfo("Asia/Kolkata")
PRIYA = "priya.sharma@suryodayasolar.in"
ROHAN = "rohan.iyer@suryodayasolar.in"
ANANYA = "ananya.reddy@suryodayasolar.in"


@dataclass
class Seed:
    """A lead created ``ago`` seconds before ``now``."""

    ago: float
    status: str = "Fresh"
    assignee: str | None = None
    source: str | None = None
    follow_up: date | None = None


def ist_day(moment: float) -> date:
    return datetime.fromtimestamp(moment, IST).date()


def workspace_with(seeds: list[Seed], *, now: float | None = None) -> dict[str, Any]:
    """The demo workspace (fields, pipeline, team) with exactly these leads."""
    now = time.time() if now is None else now
    ws = demo_workspace()
    leads = []
    for i, seed in enumerate(seeds):
        fields: dict[str, Any] = {"name": f"Lead {i}", "phone": f"91981230{i:04d}", "status": seed.status}
        if seed.assignee:
            fields["assignee"] = seed.assignee
        if seed.source:
            fields["contact_source"] = seed.source
        if seed.follow_up:
            fields["follow_up_date"] = seed.follow_up.strftime("%d/%m/%Y")
        leads.append({"created_on": int((now - seed.ago) * 1000), "fields": fields})
    ws["leads"] = leads
    return ws


def block_texts(blocks: list[dict[str, Any]]) -> str:
    """Every text of a message's blocks, one per line."""
    parts: list[str] = []
    for block in blocks:
        for key in ("text", "title"):
            value = block.get(key)
            if isinstance(value, dict):
                parts.append(value.get("text", ""))
        for el in block.get("elements") or []:
            if isinstance(el, dict):
                text = el.get("text")
                parts.append(text.get("text", "") if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)


def image_of(message: dict[str, Any]) -> dict[str, Any] | None:
    return next((b for b in message.get("blocks") or [] if b.get("type") == "image"), None)
