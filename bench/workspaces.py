"""Workspaces of a chosen size, and the /lead text the benchmarks type.

A workspace of N fields is the demo workspace (real field mix: dropdowns with up to 162 options,
tags, status, assignee, dates…) cut to N fields or padded with generated fields of every type, so
the modal builder sees what a large real workspace would give it.
"""

from __future__ import annotations

import itertools
from typing import Any

from telecrm.sandbox import demo_workspace

# field types a workspace admin adds, in the proportions a sales workspace tends to have
_PADDING_TYPES = (
    "TEXT",
    "DROPDOWN",
    "TEXT",
    "NUMBER",
    "DATE",
    "TAGS",
    "DROPDOWN",
    "MONEY",
    "PHONE",
    "EMAIL",
    "WEBSITE",
    "RATING",
)
_ESSENTIAL = ("name", "phone", "email", "status", "assignee")


def padding_field(i: int) -> dict[str, Any]:
    """The i-th generated field: a stable API name, a human label and options where the type has them."""
    ftype = _PADDING_TYPES[i % len(_PADDING_TYPES)]
    field: dict[str, Any] = {
        "apiName": f"extra_{i:03d}",
        "type": ftype,
        "name": f"Extra {ftype.title()} {i}",
        "description": f"Generated {ftype.lower()} field number {i}",
    }
    if ftype == "DROPDOWN":
        # every other generated dropdown is too long for a static select (> 100 options → type-ahead)
        count = 150 if i % len(_PADDING_TYPES) == _PADDING_TYPES.index("DROPDOWN", 2) else 12
        field["options"] = [f"Option {i}.{k}" for k in range(count)]
    elif ftype == "TAGS":
        field["options"] = [f"Tag {i}.{k}" for k in range(20)]
    return field


def workspace_with_fields(n: int) -> dict[str, Any]:
    """The demo workspace with exactly ``n`` lead fields (at least the five every form needs)."""
    if n < len(_ESSENTIAL):
        raise ValueError(f"a workspace needs at least {len(_ESSENTIAL)} fields, got {n}")
    ws = demo_workspace()
    demo = ws["fields"]
    essential = [f for f in demo if f["apiName"] in _ESSENTIAL]
    others = [f for f in demo if f["apiName"] not in _ESSENTIAL]
    fields = essential + others[: n - len(essential)]
    fields += [padding_field(i) for i in range(n - len(fields))]
    ws["fields"] = fields
    ws["leads"] = []  # seeded leads refer to demo fields that may have been cut
    return ws


_serial = itertools.count(1)


def next_phone() -> str:
    """A valid Indian mobile number never used before in this process (identifiers must be unique)."""
    n = next(_serial)
    return f"9198{n:08d}"


def inline_create_text(phone: str) -> str:
    """What a rep types to create a lead without the modal (README.md, *Using it*)."""
    return f'name="Bench Lead {phone[-6:]}" phone={phone} email=lead{phone[-8:]}@example.com status=Fresh'
