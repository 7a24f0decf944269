"""`/timeline`: a lead's history, newest first, with paging and filters."""

from commands.timeline.listeners import register

__all__ = ["register"]
