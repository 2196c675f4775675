"""The request id: taken from X-Request-ID (as Nginx passes it) or made here, answered in
X-Request-ID, and in every log line written while the request is handled.

A WSGI middleware outside everything else, so Socket.IO's own requests (a long-poll, a
WebSocket and the socket events read from it) get one too. The id lives in a context
variable: each request runs in a greenlet or thread of its own, and under gevent each
greenlet has its own context, so two requests never see each other's id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from werkzeug.wsgi import ClosingIterator

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HEADER = "X-Request-ID"
# Nginx's $request_id is 32 hex digits; other proxies use UUIDs or their own tokens.
# Anything else (too long, spaces, quotes, control characters) is replaced, so a client
# cannot forge log lines or fill the log through it.
VALID_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")

_request_id: ContextVar[str | None] = ContextVar("parley_request_id", default=None)
access_log = logging.getLogger("parley.access")


def current_request_id() -> str | None:
    """The id of the request being handled here, None outside any."""
    return _request_id.get()


def request_id_for(sent: str | None) -> str:
    """The client's (or proxy's) id when it is a safe one, else a new one."""
    if sent is not None and VALID_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class RequestIds:
    """Binds each request's id, answers it in X-Request-ID, and with `log_access` writes
    one access line per request (method, path, status, duration) once its body is sent."""

    def __init__(self, app: WSGIApplication, *, log_access: bool) -> None:
        self.app = app
        self.log_access = log_access

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        _request_id.set(request_id)
        header = (HEADER, request_id)
        status: list[str] = []

        def start_with_id(
            line: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Any:
            status[:] = [line]
            headers = [h for h in headers if h[0].lower() != "x-request-id"]
            headers.append(header)
            return start_response(line, headers, exc_info)

        started = time.perf_counter()
        try:
            body = self.app(environ, start_with_id)
        except BaseException:
            self._done(environ, status, started, failed=True)
            raise
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(body, list | tuple) or (
            isinstance(file_wrapper, type) and isinstance(body, file_wrapper)
        ):
            # Already whole (the server then sends its length), or a file the server may
            # send by sendfile: both passed on as they are, ended now.
            self._done(environ, status, started, failed=False)
            return body
        return ClosingIterator(body, lambda: self._done(environ, status, started, failed=False))

    def _done(
        self, environ: WSGIEnvironment, status: list[str], started: float, *, failed: bool
    ) -> None:
        try:
            if self.log_access:
                code = int(status[0].split(" ", 1)[0]) if status else (500 if failed else None)
                access_log.info(
                    "%s %s %s",
                    environ.get("REQUEST_METHOD"),
                    environ.get("PATH_INFO"),
                    code,
                    extra={
                        "method": environ.get("REQUEST_METHOD"),
                        "path": environ.get("PATH_INFO"),
                        "status": code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                )
        finally:
            # A kept-alive connection's next request runs in the same greenlet or thread.
            _request_id.set(None)
