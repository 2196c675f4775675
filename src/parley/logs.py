"""The log format: the servers' own text (the default), or with PARLEY_LOG_FORMAT=json one
JSON object a line, for a log collector.

Every JSON line has time, level, logger and message, the exception's traceback as
`exception` when there is one, and `request_id` when it was written while a request was
handled (see request_ids); the access line adds method, path, status and duration_ms.
The formatter is python-json-logger's, so gunicorn's master, which must not import
Parley (see production.py), formats its own lines the same way (gunicorn_logging.json).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

from .request_ids import current_request_id

JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
RENAMED = {"levelname": "level", "name": "logger", "exc_info": "exception"}
# Loggers whose libraries give them a handler of their own (plain text), or that write
# a line per request the access line already is.
OWN_HANDLERS = ("engineio.server", "socketio.server")
ACCESS_LINES = ("werkzeug", "gunicorn.access")


def json_formatter() -> logging.Formatter:
    return JsonFormatter(JSON_FIELDS, rename_fields=RENAMED, timestamp="time")


class RequestIdFilter(logging.Filter):
    """Adds the request id to each record written while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        if request_id is not None:
            record.request_id = request_id
        return True


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler JSON mode installs; marked by its class, so building another app
    in the process replaces it rather than adding a second."""


def json_logging(app: Flask) -> bool:
    return bool(app.config["PARLEY_LOG_FORMAT"] == "json")


def configure_logging(app: Flask) -> None:
    """In JSON mode, route every logger through one JSON handler on stderr."""
    if not json_logging(app):
        return
    handler = _JsonHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # Flask's own handler on the app's logger writes text beside this one.
    app.logger.removeHandler(default_handler)
    for name in OWN_HANDLERS:
        logging.getLogger(name).handlers.clear()
    for name in ACCESS_LINES:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Python's warnings are printed to stderr as text otherwise.
    logging.captureWarnings(True)
    _log_hub_errors()


def _log_hub_errors() -> None:
    """gevent's hub prints the traceback of a greenlet that died (outside any request's
    handling) to stderr itself: under gevent, it goes through the log instead."""
    from gevent import get_hub, monkey

    if not monkey.is_module_patched("socket"):
        return
    hub = get_hub()
    errors = logging.getLogger("gevent.hub")

    def print_exception(context: Any, kind: Any, value: Any, traceback: Any) -> None:
        failed = getattr(kind, "__name__", "exception")
        exc_info = (kind, value, traceback) if isinstance(value, BaseException) else None
        errors.error("%s failed with %s", context, failed, exc_info=exc_info)

    hub.print_exception = print_exception


def gevent_logs(app: Flask) -> dict[str, Any]:
    """gevent's WSGI server's logs: its own access lines and tracebacks in text mode;
    in JSON mode no access line of its own (RequestIds writes it) and its errors
    through logging."""
    if not json_logging(app):
        return {"log": "default"}
    return {"log": None, "error_log": logging.getLogger("gevent.pywsgi")}
