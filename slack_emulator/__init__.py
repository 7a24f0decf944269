"""A loopback Slack for trying the bot without a workspace and for end-to-end tests.

`SlackEmulator` answers the Web API methods the bot uses and sends the bot signed requests the way
Slack does, or envelopes over a Socket Mode WebSocket; `serve_in_thread` puts it on a local port.
"""

from .blockkit import validate_message_blocks, validate_view
from .delivery import Delivery
from .emulator import SlackEmulator
from .server import RunningServer, serve_in_thread, serve_wsgi
from .signing import sign_request
from .socket_mode import SocketModeServer
from .views import ClientValidationError

__all__ = [
    "ClientValidationError",
    "Delivery",
    "RunningServer",
    "SlackEmulator",
    "SocketModeServer",
    "serve_in_thread",
    "serve_wsgi",
    "sign_request",
    "validate_message_blocks",
    "validate_view",
]
