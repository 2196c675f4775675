"""A small REST client for end-to-end tests (requests, against a real server)."""

from __future__ import annotations

from typing import Any

import requests


class Api:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        response = self.http.request(method, self.base + path, timeout=30, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        return response.json() if response.content else None

    @classmethod
    def register(cls, base_url: str, username: str) -> tuple[Api, dict[str, Any]]:
        body = cls(base_url).call(
            "POST",
            "/auth/register",
            201,
            json={"username": username, "password": "e2e-password-1"},
        )
        return cls(base_url, body["token"]), body

    def history(self, room_id: int) -> list[dict[str, Any]]:
        """Every message of a room, walked with `after`, as the server has them now."""
        found: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.call("GET", f"/rooms/{room_id}/messages?after={after}&limit=100", 200)
            found.extend(page["messages"])
            if not page["has_more"]:
                return found
            after = page["messages"][-1]["id"]

    def close(self) -> None:
        self.http.close()
