"""Unfurled lead links: a TeleCRM lead link pasted where the bot is shows a compact, current card
under the message (``link_shared`` event → ``chat.unfurl``; README.md, *Lead links*).

- ``listeners.py`` — the ``link_shared`` listener and ``register``; the TeleCRM reads and the
  ``chat.unfurl`` call run off the listener threads (:func:`~commands.unfurl.listeners.unfurl_links`)
- ``links.py`` — which links are this workspace's lead links (pure)
- ``render.py`` — the compact card (pure)
"""

from commands.unfurl.listeners import register

__all__ = ["register"]
