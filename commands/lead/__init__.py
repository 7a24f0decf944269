"""`/lead`: the New lead form, inline creates, find, update and Edit, and the lead jobs."""

from commands.lead.listeners import register

__all__ = ["register"]
