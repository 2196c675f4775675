"""The broadcaster client is a package and an extra of its own: the server never imports
its libraries, and `parley stream` without them says how to install them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from parley.cli import cli

CLIENT_ONLY = ("requests", "websocket", "cv2", "parley_stream")


def test_the_server_imports_none_of_the_broadcaster_clients_libraries() -> None:
    # Every server module is imported and an app built in a process where the client's
    # libraries (and the client itself) cannot be imported at all.
    script = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys

        BLOCKED = {CLIENT_ONLY!r}

        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"the server imported {{name}}")
                return None

        sys.meta_path.insert(0, Blocker())
        import parley
        for module in pkgutil.walk_packages(parley.__path__, "parley."):
            if not module.name.startswith("parley.migrations"):
                importlib.import_module(module.name)
        app = parley.create_app("testing")
        assert app.test_client().get("/healthz").status_code == 200
        print(sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PARLEY_CONFIG": "testing"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_stream_without_the_clients_libraries_says_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A None entry in sys.modules is how Python marks a module that cannot be imported.
    monkeypatch.setitem(sys.modules, "requests", None)
    monkeypatch.setitem(sys.modules, "websocket", None)
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    result = CliRunner().invoke(
        cli,
        ["stream", "--room", "lobby", "--source", "test", "--server", "http://127.0.0.1:9"],
        env={"PARLEY_TOKEN": "not-needed"},
    )
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        "Error: parley stream needs the broadcaster client's libraries, and requests, "
        'websocket-client are not installed: pip install "parley[stream]"'
    )


def test_stream_names_the_one_library_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "websocket", None)
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    result = CliRunner().invoke(
        cli,
        ["stream", "--room", "lobby", "--source", "test", "--server", "http://127.0.0.1:9"],
        env={"PARLEY_TOKEN": "not-needed"},
    )
    assert result.exit_code == 1, result.output
    assert "and websocket-client is not installed: pip install" in result.output
