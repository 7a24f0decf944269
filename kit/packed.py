"""One typed model for what the bot hands Slack to bring back later: a button's or select's
``value`` and a modal's ``private_metadata``.

A :class:`Packed` is a frozen dataclass of text and whole numbers that travels as compact JSON,
each field under a short key (``field(metadata=key("l"))``) and cut to its own length
(``key("n", max_len=80)``), so it stays within Slack's 2,000 characters. Whatever comes back is
untrusted: :meth:`Packed.from_value` gives ``None`` for an old, foreign or forged value, never an
exception, and reads only the fields the class declares.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, ClassVar, Self

MAX_VALUE = 2000  # Slack's limit on a button value (private_metadata allows 3,000)


def key(name: str, *, max_len: int | None = None) -> dict[str, Any]:
    """Field metadata: the short key a field travels under, and how long its text may be."""
    return {"key": name, "max_len": max_len}


class Packed:
    """Base of the bot's typed Slack values (subclasses are frozen dataclasses)."""

    #: fields that must be present for a value to mean anything (e.g. the lead id)
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    def to_data(self) -> dict[str, object]:
        """The set fields under their keys (``None`` and empty text left out)."""
        data: dict[str, object] = {}
        for f in fields(self):  # type: ignore[arg-type]  # every subclass is a dataclass
            value = getattr(self, f.name)
            if value is None or value == "":
                continue
            max_len = f.metadata.get("max_len")
            if isinstance(value, str) and max_len:
                value = value[: max_len - 1] + "…" if len(value) > max_len else value
            data[f.metadata.get("key", f.name)] = value
        return data

    def to_value(self) -> str:
        """Compact JSON for a button value or ``private_metadata``."""
        return json.dumps(self.to_data(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_data(cls, data: object) -> Self | None:
        """The value read from already-parsed JSON; ``None`` when it is not one of ours."""
        if not isinstance(data, Mapping):
            return None
        given: dict[str, object] = {}
        for f in fields(cls):  # type: ignore[arg-type]  # every subclass is a dataclass
            raw = data.get(f.metadata.get("key", f.name))
            if raw is None or raw == "":
                continue
            converted = _as(str(f.type), raw)
            if converted is None:
                return None
            given[f.name] = converted
        if any(name not in given for name in cls.REQUIRED):
            return None
        return cls(**given)

    @classmethod
    def from_value(cls, value: object) -> Self | None:
        """The value a button or view brought back; ``None`` for anything unreadable."""
        if not isinstance(value, str) or not value or len(value) > 3 * MAX_VALUE:
            return None
        try:
            return cls.from_data(json.loads(value))
        except ValueError:
            return None


def _as(annotation: str, raw: object) -> object | None:
    """``raw`` as the field's type (text or a whole number), or ``None`` when it cannot be."""
    if annotation.startswith("int"):
        if isinstance(raw, bool):
            return None
        try:
            return int(raw)  # type: ignore[call-overload]  # untrusted JSON: bad values fall to except
        except (TypeError, ValueError):
            return None
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        return str(raw)
    return None
