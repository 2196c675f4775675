"""Typed API routes: parse and validate with pydantic, answer with pydantic.

Every route is declared with its request and response models, and the OpenAPI document
is generated from those same declarations.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import ApiError, validation_failed
from ..identity import CSRF_HEADER, SAFE_METHODS, current_session_token, current_user
from ..ratelimits import limiter
from ..schemas.base import ErrorOut

JSON_MIMETYPES = ("application/json",)
_RULE_ARG = re.compile(r"<(?:(\w+):)?(\w+)>")

# Answers that always tell the client when to try again (errors.Overloaded).
RETRY_AFTER_STATUSES = (503,)
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before sending again.",
    "schema": {"type": "integer", "minimum": 1},
}

# True: a Bearer token or the session cookie; "session": the cookie only; False: none.
Auth = bool | Literal["session"]


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    also: tuple[int, ...]
    errors: tuple[int, ...]
    auth: Auth
    limited: bool
    upload: tuple[str, ...] = ()
    produces: str | None = None

    def success_statuses(self) -> list[int]:
        return sorted({self.status, *self.also})

    def error_statuses(self) -> list[int]:
        """Every error status the route can answer: those its parts imply, and its own."""
        # 400: any malformed request, and a Host that PARLEY_ALLOWED_HOSTS refuses.
        # 503: the database, or a store a check needs (logins' Redis), cannot be reached.
        found = {400, 503, *self.errors}
        if self.auth:
            # 403: a role without the permission, a ban, or a cookie request without CSRF.
            found |= {401, 403}
        if _RULE_ARG.search(self.rule):
            found.add(404)
        if self.body is not None or self.upload:
            found |= {413, 415, 422}
        if self.query is not None:
            found.add(422)
        if self.limited:
            found.add(429)
        return sorted(found)


def parse_json_body(model: type[BaseModel]) -> BaseModel:
    if request.mimetype not in JSON_MIMETYPES:
        raise ApiError(
            "Send the body as JSON with Content-Type: application/json.",
            code="unsupported_media_type",
            status=415,
        )
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(raw) >= limit:
        # A chunked body has no length to refuse it by up front, and Werkzeug stops
        # reading it at the limit: what was read is cut short, not invalid JSON.
        raise ApiError(
            f"The body is larger than the {limit} bytes allowed.",
            code="payload_too_large",
            status=413,
        )
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError("The body is not valid JSON.", code="invalid_json") from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise validation_failed(exc, "body") from None


def read_upload(media_types: tuple[str, ...]) -> bytes:
    """The raw body of an upload in one of these media types, read whole."""
    if request.mimetype not in media_types:
        raise ApiError(
            f"Send the body as one of {', '.join(media_types)}, with its Content-Type.",
            code="unsupported_media_type",
            status=415,
            details={"accepted": list(media_types)},
        )
    limit = request.max_content_length
    # Werkzeug refuses a declared length over the limit before reading, and stops reading
    # a chunked body at it (what was read is then cut short): both are too large.
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raw = None
    if raw is None or (limit is not None and request.content_length is None and len(raw) >= limit):
        raise ApiError(
            f"The body is larger than the {limit} bytes allowed.",
            code="payload_too_large",
            status=413,
            details={"max_bytes": limit},
        )
    return raw


def parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise validation_failed(exc, "query") from None


def reply(result: Any, status: int) -> Response | tuple[Response, int]:
    if isinstance(result, tuple):
        result, status = result
    if result is None:
        return Response(status=204)
    if isinstance(result, Response):
        return result
    return jsonify(result.model_dump(mode="json")), status


class ApiSpec:
    """Routes on one blueprint, and the OpenAPI document that describes them."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.operations: list[Operation] = []

    def route(
        self,
        method: str,
        rule: str,
        *,
        tag: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        also: tuple[int, ...] = (),
        errors: tuple[int, ...] = (),
        auth: Auth = True,
        limit: Callable[[], str] | None = None,
        upload: tuple[str, ...] = (),
        upload_limit: Callable[[], int] | None = None,
        produces: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a route: `status` is its usual success, `also` any other success it
        may answer (a view returns `(result, status)` for those), and `errors` the error
        statuses beyond those its auth, path, body, query and limit already imply.

        `upload` names the media types of a raw body (a file), handed to the view as
        `data`, up to `upload_limit()` bytes instead of MAX_CONTENT_LENGTH; `produces`
        the media type of a body the view answers itself as a Response (an image).
        """

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            doc = (fn.__doc__ or fn.__name__).strip().split("\n\n", 1)
            operation = Operation(
                method=method.upper(),
                rule=rule,
                endpoint=fn.__name__,
                summary=doc[0].strip(),
                description=doc[1].strip() if len(doc) > 1 else "",
                tag=tag,
                body=body,
                query=query,
                response=response,
                status=status,
                also=also,
                errors=errors,
                auth=auth,
                limited=limit is not None,
                upload=upload,
                produces=produces,
            )

            @functools.wraps(fn)
            def view(**path_args: Any) -> Response | tuple[Response, int]:
                kwargs = dict(path_args)
                if auth == "session":
                    kwargs["actor"] = current_session_token().user
                elif auth:
                    kwargs["actor"] = current_user()
                if body is not None:
                    kwargs["body"] = parse_json_body(body)
                if upload:
                    if upload_limit is not None:
                        request.max_content_length = upload_limit()
                    kwargs["data"] = read_upload(upload)
                if query is not None:
                    kwargs["query"] = parse_query(query)
                return reply(fn(**kwargs), status)

            view_func: Callable[..., Any] = view
            if limit is not None:
                # Routes with the same limit share one budget: /auth/login and
                # /auth/session draw on the same login attempts.
                view_func = limiter.shared_limit(limit, scope=limit.__name__)(view)
            self.blueprint.add_url_rule(
                rule, endpoint=fn.__name__, view_func=view_func, methods=[operation.method]
            )
            self.operations.append(operation)
            return view_func

        return decorator

    def document(self, *, title: str, version: str, prefix: str) -> dict[str, Any]:
        inputs = {m for op in self.operations for m in (op.body, op.query) if m is not None}
        outputs = {op.response for op in self.operations if op.response is not None}
        outputs.add(ErrorOut)
        keyed = [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)] + [
            (m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)
        ]
        refs, top = models_json_schema(
            keyed,  # type: ignore[arg-type]
            ref_template="#/components/schemas/{model}",
        )
        schemas = top.get("$defs", {})
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            path = prefix + _RULE_ARG.sub(lambda m: "{" + m.group(2) + "}", op.rule)
            paths.setdefault(path, {})[op.method.lower()] = self._operation(op, refs, schemas)
        return {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                    # What a state-changing request with the cookie sends beside it.
                    "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
                },
            },
        }

    @staticmethod
    def _operation(op: Operation, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
        parameters: list[dict[str, Any]] = []
        for converter, name in _RULE_ARG.findall(op.rule):
            schema: dict[str, Any] = (
                {"type": "integer", "minimum": 1}
                if converter in ("id", "int")
                else {"type": "string"}
            )
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        if op.query is not None:
            ref = refs[(op.query, "validation")]["$ref"].rsplit("/", 1)[-1]
            query_schema = schemas[ref]
            required = set(query_schema.get("required", []))
            for name, prop in query_schema.get("properties", {}).items():
                parameters.append(
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                )
        error = {
            "description": "An error, in the one shape every error has.",
            "content": {"application/json": {"schema": refs[(ErrorOut, "serialization")]}},
        }
        success: dict[str, Any] = {"description": "Success"}
        if op.response is not None:
            success["content"] = {
                "application/json": {"schema": refs[(op.response, "serialization")]}
            }
        elif op.produces is not None:
            success["content"] = {op.produces: {"schema": {"type": "string", "format": "binary"}}}
        responses: dict[str, Any] = {
            str(code): success if code != 304 else {"description": "Not Modified"}
            for code in op.success_statuses()
        }
        for code in op.error_statuses():
            responses[str(code)] = {**error, "description": HTTPStatus(code).phrase}
            if code in RETRY_AFTER_STATUSES:
                responses[str(code)]["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
        spec: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": parameters,
            "responses": responses,
        }
        if op.description:
            spec["description"] = op.description
        if op.body is not None:
            spec["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        elif op.upload:
            binary = {"schema": {"type": "string", "format": "binary"}}
            spec["requestBody"] = {
                "required": True,
                "content": {media_type: binary for media_type in op.upload},
            }
        cookie: dict[str, list[str]] = {"session": []}
        if op.method not in SAFE_METHODS:
            cookie["csrf"] = []
        if op.auth == "session":
            spec["security"] = [cookie]
        elif op.auth:
            spec["security"] = [{"bearer": []}, cookie]
        else:
            spec["security"] = []
        return spec
