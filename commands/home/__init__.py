"""App Home: the week's pipeline, recent leads, the schema cache, queued writes, and the admin refresh."""

from commands.home.listeners import register

__all__ = ["register"]
