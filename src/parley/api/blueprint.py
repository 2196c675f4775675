"""The REST blueprint and the route registry its modules declare routes on."""

from __future__ import annotations

from flask import Blueprint

from .spec import ApiSpec

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
api = ApiSpec(bp)
