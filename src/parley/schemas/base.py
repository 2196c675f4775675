"""Base classes for request and response schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """A JSON body: strict types, unknown fields refused so typos do not pass silently."""

    model_config = ConfigDict(strict=True, extra="forbid")


class QueryArgs(BaseModel):
    """Query-string arguments arrive as text, so these convert ("50" -> 50)."""

    model_config = ConfigDict(extra="ignore")


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, object]


class ErrorOut(BaseModel):
    """Every API error has this shape."""

    error: ErrorDetail


class StatusOut(Response):
    ok: bool = True
