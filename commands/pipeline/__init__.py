"""`/pipeline` and the morning digest: pipeline at a glance (README.md, *Using it*).

- ``listeners.py`` — the command, the *Share in channel* button, and ``register``
- ``show.py`` — a report for the person who asked, after the acknowledgement, and sharing it
- ``digest.py`` — the morning digest in ``DIGEST_CHANNEL``: claimed once per day, then a job
- ``payloads.py`` — the digest job's payload

The numbers, the chart and the message live in ``kit/pipeline``.
"""

from commands.pipeline.listeners import register

__all__ = ["register"]
