"""*Log activity*: the workspace's custom actions as a form, sent as TeleCRM actions."""

from commands.activity.listeners import register

__all__ = ["register"]
