"""`/pipeline`: pipeline at a glance (README.md, *Using it*).

- ``listeners.py`` — the command, the *Share in channel* button, and ``register``
- ``show.py`` — a report for the person who asked, after the acknowledgement, and sharing it

The numbers, the chart and the message live in ``kit/pipeline``.
"""

from commands.pipeline.listeners import register

__all__ = ["register"]
