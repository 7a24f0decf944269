"""App Home: the week's pipeline, recent leads, the schema cache, queued writes, the admin refresh, and
in OAuth mode the workspace's TeleCRM connection."""

from slack_bolt import App

from commands.home import connect_listeners, listeners
from kit.services import Services


def register(app: App, services: Services) -> None:
    listeners.register(app, services)
    connect_listeners.register(app, services)


__all__ = ["register"]
