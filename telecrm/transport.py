"""The HTTP side of the TeleCRM client: one pooled ``httpx.Client``, bearer tokens, answers or typed errors.

Every call goes out once: a write that is retried blindly may be applied twice, so nothing here
retries. A network failure, a non-JSON answer or an HTTP error becomes the :mod:`telecrm.errors`
class for it (its ``transient`` tells the caller whether trying later may help); tokens never appear
in an error message or a log line, and log lines mask the emails in paths.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import math
import ssl
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from telecrm.errors import (
    TeleCRMAuthError,
    TeleCRMNotReached,
    TeleCRMRateLimited,
    TeleCRMTimedOut,
    TeleCRMUnavailable,
    TeleCRMUnreadableAnswer,
    error_class_for,
)
from telecrm.redact import mask

# one logger name for the client's log lines, as when the transport was part of telecrm/client.py
logger = logging.getLogger("telecrm.client")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` is either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC).timestamp()
    return max(0.0, when.timestamp() - current)


def rate_limited_text(retry_after: float | None) -> str:
    """What a 429 means, in words, whatever its body: "TeleCRM is rate-limiting requests; retry after 30 s."."""
    when = f"retry after {math.ceil(retry_after)} s" if retry_after is not None else "retry later"
    return f"TeleCRM is rate-limiting requests (HTTP 429); {when}."


@functools.cache
def shared_tls() -> ssl.SSLContext:
    """One TLS context for every TeleCRM client in the process, as httpx would make each (certifi's
    CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``). Loading the bundle takes about 30 ms and a
    megabyte, and in OAuth mode every connected workspace has a client of its own; a context is safe
    to share between connections and threads."""
    return httpx.create_ssl_context()


class TeleCRMTransport:
    """Requests to one enterprise's Sync routes (and its Async route), answers read as JSON."""

    def __init__(
        self,
        *,
        base_url: str,
        async_base_url: str,
        enterprise_id: str,
        sync_token: str,
        async_token: str | None,
        timeout: float,
        transport: httpx.BaseTransport | None,
        auth_remedy: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # what an admin does when TeleCRM refuses the token; None: check the environment's TELECRM_*
        self._auth_remedy = auth_remedy
        self.async_base_url = async_base_url.rstrip("/")
        self.enterprise_id = enterprise_id
        self._sync_token = sync_token
        self._async_token = async_token
        self._secrets = tuple(t for t in (sync_token, async_token) if t)
        self.timeout = timeout
        self._http = httpx.Client(
            timeout=httpx.Timeout(connect=min(timeout, 5.0), read=timeout, write=timeout, pool=timeout),
            # keep-alive = max: with fewer, httpcore 1.0 may close an idle connection another thread
            # has just been given (EBADF, or a read that hangs until the timeout)
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
            headers={"Accept": "application/json", "User-Agent": "telecrm-slack"},
            transport=transport,
            follow_redirects=False,
            verify=shared_tls(),
        )

    @property
    def has_async_token(self) -> bool:
        return bool(self._async_token)

    def _check(self, use_async: bool) -> str:
        """The end of a refused token's message: what to do, where these credentials come from."""
        if self._auth_remedy is None:
            variable = "TELECRM_ASYNC_TOKEN" if use_async else "TELECRM_SYNC_TOKEN"
            return f"; check {variable} and TELECRM_ENTERPRISE_ID."
        return f". {self._auth_remedy}" if self._auth_remedy else "."

    def close(self) -> None:
        self._http.close()

    # --- routes -----------------------------------------------------------------------------------

    def path(self, *segments: object) -> str:
        """A Sync route of this enterprise; each segment is percent-encoded, so a ``/`` in a value stays in it."""
        quoted = "/".join(quote(str(s), safe="@") for s in segments)
        return f"/enterprise/{quote(self.enterprise_id, safe='')}/{quoted}"

    def get(self, *segments: object, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", self.path(*segments), params=params)

    def post(self, *segments: object, body: object, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", self.path(*segments), json=body, params=params)

    def post_async(self, route: str, body: object) -> Any:
        """``POST`` to the Async API (its own base URL and token) at ``/enterprise/{id}/{route}``."""
        path = f"/enterprise/{quote(self.enterprise_id, safe='')}/{route}"
        return self.request("POST", path, json=body, use_async=True)

    # --- one request ------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: object = None,
        use_async: bool = False,
    ) -> Any:
        base, token = (
            (self.async_base_url, self._async_token) if use_async else (self.base_url, self._sync_token)
        )
        headers = {"Authorization": f"Bearer {token}"}
        if json is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            response = self._http.request(method, base + path, params=params, json=json, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._log(method, path, "not reached", started)
            raise TeleCRMNotReached(
                f"Could not reach TeleCRM: {self._scrub(str(exc)) or type(exc).__name__}."
            ) from exc
        except httpx.TimeoutException as exc:
            self._log(method, path, "timeout", started)
            raise TeleCRMTimedOut(
                f"TeleCRM did not answer in time ({self.timeout:g} s, {type(exc).__name__}).",
                seconds=self.timeout,
            ) from exc
        except httpx.HTTPError as exc:
            self._log(method, path, "network error", started)
            raise TeleCRMUnavailable(
                f"Could not reach TeleCRM: {self._scrub(str(exc)) or type(exc).__name__}."
            ) from exc
        self._log(method, path, response.status_code, started)
        return self._read(response, use_async=use_async)

    def _log(self, method: str, path: str, outcome: object, started: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = (time.monotonic() - started) * 1000
            logger.debug("TeleCRM %s %s -> %s in %.0f ms", method, mask(path), outcome, elapsed)

    # --- the answer -------------------------------------------------------------------------------

    def _read(self, response: httpx.Response, *, use_async: bool = False) -> Any:
        status = response.status_code
        try:
            body = response.json() if response.content else None
            is_json = True
        except ValueError:
            body, is_json = None, False
        if 200 <= status < 300:
            if not is_json:
                raise TeleCRMUnreadableAnswer(
                    f"TeleCRM answered {status} with something that is not JSON; check the API base URL.",
                    status=status,
                )
            return {} if body is None else body
        code, message, details = self._error_parts(body)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if not is_json:
            if status == 429:  # a rate limiter (TeleCRM's or a proxy's) need not answer JSON
                raise TeleCRMRateLimited(
                    rate_limited_text(retry_after), status=status, retry_after=retry_after
                )
            kind = (
                "an HTML page"
                if "html" in response.headers.get("Content-Type", "").lower()
                else "a non-JSON answer"
            )
            variable = "TELECRM_ASYNC_API_URL" if use_async else "TELECRM_API_URL"
            raise TeleCRMUnavailable(
                f"TeleCRM answered {status} with {kind}; check the API base URL ({variable}).",
                status=status,
                retry_after=retry_after,
            )
        if status == 401:
            raise TeleCRMAuthError(
                f"The TeleCRM token was rejected ({message or 'not authorized'}){self._check(use_async)}",
                status=status,
                code=code,
                details=details,
                remedy=self._auth_remedy or None,
            )
        cls = error_class_for(status)
        default = rate_limited_text(retry_after) if status == 429 else f"TeleCRM answered HTTP {status}"
        raise cls(message or default, status=status, code=code, details=details, retry_after=retry_after)

    def _error_parts(self, body: object) -> tuple[str | None, str, list[Any]]:
        """The ``{"error": {"code", "message"}}`` envelope, or any looser shape an error body might take."""
        if not isinstance(body, Mapping):
            return None, self._scrub(str(body)) if body else "", []
        error = body.get("error", body)
        if isinstance(error, str):
            return (str(body["code"]) if body.get("code") else None), self._scrub(error), []
        if not isinstance(error, Mapping):
            return None, "", []
        code = error.get("code")
        message = error.get("message") or body.get("message") or ""
        details = error.get("details") or body.get("details") or body.get("errors") or []
        return (
            str(code) if code else None,
            self._scrub(str(message)),
            details if isinstance(details, list) else [details],
        )
