"""Links in a message as Slack finds them for app unfurling (``link_shared``), and whether a link's
host is one of the app's unfurl domains (a registered domain covers its subdomains too)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_ANGLED = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>")
_BARE = re.compile(r"https?://[^\s<>|]+")


def links_in(text: str) -> list[str]:
    """The web links of a message's text, in order, once each: ``<url>`` / ``<url|label>`` links
    and bare addresses (without trailing punctuation). ``&amp;`` in a link is read as ``&``."""
    found = [m.group(1) for m in _ANGLED.finditer(text or "")]
    rest = _ANGLED.sub(" ", text or "")
    found += [m.group(0).rstrip(".,;:!?)]}'\"") for m in _BARE.finditer(rest)]
    return list(dict.fromkeys(html.unescape(url) for url in found))


def unfurl_domain(url: str, domains: Iterable[str]) -> str | None:
    """The registered domain ``url`` falls under (its host, or a parent of it), else ``None``."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    for domain in domains:
        wanted = domain.strip().lower().rstrip(".")
        if wanted and (host == wanted or host.endswith("." + wanted)):
            return wanted
    return None
