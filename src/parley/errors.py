"""The API error type and the handlers that give every error one JSON shape."""

from __future__ import annotations

import json
import logging
import math
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.serving import WSGIRequestHandler

log = logging.getLogger(__name__)

# How long a client is asked to wait before retrying while the database is unreachable:
# a restart of PostgreSQL takes a few seconds.
UNAVAILABLE_RETRY_SECONDS = 2


class ApiError(Exception):
    """An error a client caused or may see: a status, a stable code, a message, details."""

    status = 400
    code = "bad_request"
    message = "The request is not valid."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def headers(self) -> dict[str, str]:
        """HTTP headers the error's response carries beside its body."""
        return {}


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"
    message = "Authentication is required."


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do that."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(ApiError):
    status = 409
    code = "conflict"
    message = "That conflicts with the current state."


class ValidationFailed(ApiError):
    status = 422
    code = "validation_error"
    message = "The request did not pass validation."


class Overloaded(ApiError):
    """The server took no more sends for now: nothing of the refused one was stored."""

    status = 503
    code = "overloaded"
    message = "The server is too busy to take this message now; send it again shortly."

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, details={"retry_after": round(retry_after, 3)})

    def headers(self) -> dict[str, str]:
        # Retry-After takes whole seconds; never 0, which would ask for a retry at once.
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}


class Unavailable(ApiError):
    """A part the request needs (the database, the login throttle's Redis) cannot be
    reached just now: nothing of the request was stored (its transaction never
    committed), and the same request may be sent again once the part is back."""

    status = 503
    code = "unavailable"
    message = "The database cannot be reached just now; try again in a few seconds."
    retry_after = UNAVAILABLE_RETRY_SECONDS

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, details={"retry_after": self.retry_after})

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def database_unreachable(exc: BaseException) -> bool:
    """Whether a database error says the connection to the server is gone or could not
    be made (a restart, a network cut), rather than that the request was wrong: the
    pool drops such a connection, and the next request opens a new one."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def validation_failed(exc: ValidationError, location: str) -> ValidationFailed:
    """Turn a pydantic error into our shape: which field, and why."""
    fields = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [location, *[str(part) for part in err["loc"]]]
        fields.append({"field": ".".join(loc), "message": err["msg"], "type": err["type"]})
    first = fields[0] if fields else {"field": location, "message": "invalid"}
    return ValidationFailed(
        f"{first['field']}: {first['message']}",
        details={"fields": fields},
    )


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    431: "headers_too_large",
}


def error_body(status: int, message: str, code: str | None = None) -> bytes:
    """The error shape as bytes, for answers made outside Flask (the server, middleware)."""
    code = code or HTTP_CODES.get(status, "http_error" if status < 500 else "internal_error")
    error = {"error": {"code": code, "message": message, "details": {}}}
    return json.dumps(error).encode()


class JsonErrorRequestHandler(WSGIRequestHandler):
    """The development server's handler, answering the errors it finds itself (a request
    line or headers too long, a malformed request) in the API's JSON shape, not HTML."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
        body = error_body(code, f"{phrase}: {message}" if message else phrase)
        self.log_error("code %d, message %s", code, message)
        self.send_response(code, phrase)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)


def error_response(error: ApiError) -> tuple[Response, int]:
    response = jsonify(error.to_dict())
    response.headers.update(error.headers())
    return response, error.status


def _http_error(exc: HTTPException) -> tuple[Response, int] | Response:
    status = exc.code or 500
    if status >= 500:
        log.error("HTTP %s: %s", status, exc.description)
    code = HTTP_CODES.get(status, "http_error" if status < 500 else "internal_error")
    if isinstance(exc, SecurityError):
        code = "bad_host"
    error = ApiError(exc.description or exc.name, code=code, status=status)
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        error.details = {"allowed": sorted(allowed)}
    response, status = error_response(error)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error", exc_info=exc)
    return error_response(
        ApiError("Something went wrong on the server.", code="internal_error", status=500)
    )


def _database_error(exc: DBAPIError) -> tuple[Response, int]:
    if not database_unreachable(exc):
        return _unexpected(exc)
    # No traceback: the server is down or restarting, not this code wrong; one line
    # says so for each request turned away.
    log.warning("database unreachable: %s", type(exc.orig or exc).__name__)
    return error_response(Unavailable())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, error_response)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
