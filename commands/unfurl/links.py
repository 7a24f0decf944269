"""Which pasted links are links to a lead of this workspace in the TeleCRM web app (pure).

A link is one when it has the shape of ``TELECRM_LEAD_URL`` (:class:`kit.config.Settings`) with this
workspace's enterprise id: the same host (and port), ``http`` or ``https``, the same path with any
lead id in its place. A query string or fragment the web app adds is ignored. Another host, another
enterprise id or another page is not a lead link, and gets no unfurl.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

_MARK = "L3ADIDMARK"
_LEAD_ID = r"([A-Za-z0-9_-]{1,64})"


def lead_id_in(url: str, template: str, enterprise_id: str) -> str | None:
    """The lead id of a link to this workspace's lead, ``None`` for any other link."""
    try:
        pattern = urlsplit(template.format(enterprise_id=enterprise_id, lead_id=_MARK))
        link = urlsplit(url.strip())
    except (ValueError, KeyError, IndexError):
        return None
    if link.scheme.lower() not in {"http", "https"} or link.netloc.lower() != pattern.netloc.lower():
        return None
    if _MARK in pattern.path:
        path = re.escape(pattern.path).replace(re.escape(_MARK), _LEAD_ID)
        match = re.fullmatch(path + "/?", link.path)
        return match.group(1) if match else None
    keys = [k for k, values in parse_qs(pattern.query).items() if _MARK in values]
    if not keys or link.path.rstrip("/") != pattern.path.rstrip("/"):
        return None
    found = parse_qs(link.query).get(keys[0]) or []
    return found[0] if found and re.fullmatch(_LEAD_ID, found[0]) else None
