"""The OpenAPI document and its browsable page (Swagger UI 5, which reads OpenAPI 3.1,
copied from npm's swagger-ui-dist into static/vendor by `make web`)."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
    send_from_directory,
)

from .api import PREFIX, api
from .errors import NotFound
from .headers import DOCS_CSP
from .probes import parley_version

bp = Blueprint("docs", __name__)

# The two files of swagger-ui-dist the docs page loads, and nothing else of it (its stock
# index.html and initializer fetch a sample API from the internet).
DOCS_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})
SWAGGER_UI = Path("vendor") / "swagger-ui"


@bp.get(PREFIX + "/openapi.json")
def openapi_json() -> Response:
    document = current_app.extensions.get("parley.openapi")
    if document is None:
        document = api.document(title="Parley API", version=parley_version(), prefix=PREFIX)
        current_app.extensions["parley.openapi"] = document
    return jsonify(document)


@bp.get("/api/docs")
def api_docs() -> Response:
    response = make_response(render_template("api_docs.html", spec_url=PREFIX + "/openapi.json"))
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@bp.get("/api/docs/assets/<path:filename>")
def api_docs_asset(filename: str) -> Response:
    if filename not in DOCS_ASSETS or current_app.static_folder is None:
        raise NotFound()
    folder = Path(current_app.static_folder) / SWAGGER_UI
    return send_from_directory(folder, filename, max_age=3600)
