"""Slow reliability runs (``make soak``): many crashes, overlapping processes and hostile clients
against the real bot process, the TeleCRM sandbox and the Slack emulator, all on loopback.

Each run counts what a user would count: writes asked for, writes in TeleCRM, messages in Slack.
Results are written up in ``docs/RELIABILITY.md``.
"""
