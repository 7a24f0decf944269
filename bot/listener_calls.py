"""Finding and calling a request's listener without building what nobody asked for.

Bolt checks the app's listeners in order until one matches, then calls it. Both steps go through
its keyword-argument builder, which makes every argument any listener could ask for — the parsed
action, view, options, shortcut, message and step, a ``say``, a ``respond``, a web client, some
thirty in all — and then passes the few that were asked for:

* each built-in matcher (``app.command("/lead")``, ``app.action(…)``, ``app.view(…)``,
  ``app.event(…)``) is a function of the body alone, yet every listener checked pays for the
  whole set; the bot registers some fifty listeners, so a request whose listener comes late paid
  for dozens of them before its acknowledgement;
* the listener it calls asks for three to five arguments (``ack``, ``body``, ``context``, …).

:func:`make_listeners_lean` replaces each registered listener by a :class:`LeanListener` that makes
only what is asked for, from the same sources Bolt uses (the request's context and Bolt's own
payload parsers), so a listener receives exactly what Bolt would have passed it. A listener that
asks for anything else keeps Bolt's way. docs/PERFORMANCE.md has what this saves per acknowledgement.

:func:`run_marked_listeners_on_request_thread` runs the listeners marked with
:func:`kit.request_thread.acks_on_request_thread` on the request's own thread while at most
:data:`ON_REQUEST_THREAD_AT_MOST` requests are being answered: Bolt's runner's steps (start, error and
completion handlers) taken there, with no hand-off to a pool thread and no 10 ms polls for the
acknowledgement.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.listener import Listener
from slack_bolt.listener.custom_listener import CustomListener
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.listener_matcher import ListenerMatcher
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.payload_utils import (
    to_action,
    to_command,
    to_event,
    to_message,
    to_options,
    to_shortcut,
    to_view,
)

from kit.request_thread import runs_on_request_thread
from storage.db import mark_urgent_writer

Argument = Callable[[CustomListener, BoltRequest], Any]

# each argument a lean listener can be given, made as Bolt's builder makes it
# (slack_bolt.kwargs_injection.utils.build_required_kwargs)
ARGUMENTS: dict[str, Argument] = {
    "ack": lambda listener, req: req.context.ack,
    "body": lambda listener, req: req.body,
    "context": lambda listener, req: req.context,
    "client": lambda listener, req: req.context.client,
    "respond": lambda listener, req: req.context.respond,
    "say": lambda listener, req: req.context.say,
    "logger": lambda listener, req: listener.logger,
    "action": lambda listener, req: to_action(req.body),
    "command": lambda listener, req: to_command(req.body),
    "event": lambda listener, req: to_event(req.body),
    "message": lambda listener, req: to_message(req.body),
    "options": lambda listener, req: to_options(req.body),
    "shortcut": lambda listener, req: to_shortcut(req.body),
    "view": lambda listener, req: to_view(req.body),
}


class BodyMatcher(ListenerMatcher):
    """A built-in matcher's own function, called with the request body and nothing built for it."""

    def __init__(self, func: Callable[..., bool]) -> None:
        self.func = func

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        return bool(self.func(body=req.body))


def _on_body(matcher: ListenerMatcher) -> ListenerMatcher:
    if isinstance(matcher, BuiltinListenerMatcher) and list(matcher.arg_names) == ["body"]:
        return BodyMatcher(cast(Callable[..., bool], matcher.func))  # an App's matchers are not async
    return matcher  # a matcher that asks for more than the body keeps Bolt's way


class LeanListener(CustomListener):
    """A Bolt listener called with only the arguments it names (all of them in :data:`ARGUMENTS`)."""

    # marked to acknowledge on the request's thread (:class:`RequestThreadRunner`), and without lazy
    # listeners (which keep Bolt's way): read once here, not on every request
    on_request_thread = False

    def run_ack_function(self, *, request: BoltRequest, response: BoltResponse) -> BoltResponse | None:
        return self.ack_function(**{name: ARGUMENTS[name](self, request) for name in self.arg_names})

    @classmethod
    def of(cls, listener: CustomListener) -> LeanListener:
        lean = cls(
            app_name=listener.app_name,
            ack_function=listener.ack_function,
            lazy_functions=listener.lazy_functions,
            matchers=[_on_body(m) for m in listener.matchers],
            middleware=listener.middleware,
            auto_acknowledgement=listener.auto_acknowledgement,
            ack_timeout=listener.ack_timeout,
        )
        lean.logger = listener.logger
        lean.on_request_thread = runs_on_request_thread(listener.ack_function) and not listener.lazy_functions
        return lean


def _lean(listener: Any) -> Any:
    if type(listener) is CustomListener and set(listener.arg_names) <= ARGUMENTS.keys():
        return LeanListener.of(listener)
    if isinstance(listener, CustomListener):  # it asks for something else: only its matchers change
        listener.matchers = [_on_body(m) for m in listener.matchers]
    return listener


def make_listeners_lean(app: App) -> Sequence[Any]:
    """Make every registered listener lean (see the module docstring); the listeners, in order.

    Runs once, after every feature has registered its listeners: Bolt keeps them in ``_listeners``
    and has no public way to list or replace them.
    """
    listeners: list[Any] = app._listeners  # noqa: SLF001  # see above
    listeners[:] = [_lean(listener) for listener in listeners]
    return listeners


# requests answered at once up to which a marked listener runs on its request's thread (more, and
# Bolt's pool runs it as it runs the others)
ON_REQUEST_THREAD_AT_MOST = 4


class RequestThreadRunner(ThreadListenerRunner):
    """Bolt's listener runner, except that a listener marked to acknowledge on the request's thread
    runs there while at most :data:`ON_REQUEST_THREAD_AT_MOST` requests are being answered (see the
    module docstring).

    Why a bound: with every marked listener on its request's thread, ten or fifty requests run the
    bot's Python at once from start to answer, and as Slack sees it (the server's own loop reading
    and writing the sockets between them) the slowest answers came later than a bare Bolt app's: p99
    1.3–1.8× at 10 concurrent, where Bolt's pool spaces requests out with its 10 ms polls. With one at
    a time the acknowledgement's CPU stayed at about 1.35× the bare app's; four at a time met both
    (docs/PERFORMANCE.md).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._running = 0  # requests between Bolt handing them to the runner and their answer

    def run(
        self,
        request: BoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: Listener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        with self._lock:
            self._running += 1
            here = self._running <= ON_REQUEST_THREAD_AT_MOST
        try:
            if here and getattr(listener, "on_request_thread", False):
                return self._run_here(request, response, listener_name, listener)
            return super().run(request, response, listener_name, listener, starting_time)
        finally:
            with self._lock:
                self._running -= 1

    def _run_here(
        self, request: BoltRequest, response: BoltResponse, listener_name: str, listener: Listener
    ) -> BoltResponse | None:
        """What Bolt's runner does on its pool thread, here — and an error after ``ack()`` keeps the
        acknowledgement (Bolt's own runner drops it, so the request waits out its 3 s and gets a
        404). Writes from here go ahead of background ones, as from the listener pool."""
        mark_urgent_writer()
        ack = request.context.ack
        if listener.auto_acknowledgement:  # events: acknowledged whatever the listener does
            ack()
        try:
            self.listener_start_handler.handle(request=request, response=response)
            listener.run_ack_function(request=request, response=response)
        except Exception as exc:
            failed = None if ack.response is not None else BoltResponse(status=500)
            self.listener_error_handler.handle(error=exc, request=request, response=failed)
            if ack.response is None:
                ack.response = failed
        finally:
            self.listener_completion_handler.handle(request=request, response=response)
        if ack.response is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
        return ack.response


def run_marked_listeners_on_request_thread(app: App) -> None:
    """Install :class:`RequestThreadRunner` (Bolt keeps its runner in ``_listener_runner`` and has no
    public way to replace it)."""
    runner: ThreadListenerRunner = app._listener_runner  # noqa: SLF001  # see above
    app._listener_runner = RequestThreadRunner(  # noqa: SLF001
        logger=runner.logger,
        process_before_response=runner.process_before_response,
        listener_error_handler=runner.listener_error_handler,
        listener_start_handler=runner.listener_start_handler,
        listener_completion_handler=runner.listener_completion_handler,
        listener_executor=runner.listener_executor,
        lazy_listener_runner=runner.lazy_listener_runner,
    )
