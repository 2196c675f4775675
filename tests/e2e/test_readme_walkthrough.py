"""The README's curl walkthrough works as written against a server started by `parley run`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from servers import LiveServer, require_tool

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- walkthrough:"


def walkthrough_script() -> str:
    text = README.read_text(encoding="utf-8")
    after = text[text.index(MARKER) :]
    match = re.search(r"```sh\n(.*?)```", after, re.S)
    assert match, "the README has no walkthrough block"
    return match.group(1)


@pytest.mark.slow
def test_readme_walkthrough_runs_as_written(live_server: LiveServer) -> None:
    require_tool("curl")
    require_tool("jq")
    script = walkthrough_script().replace("http://127.0.0.1:5000", live_server.url)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == '"member"'
    assert lines[1] == '"<p>Hello <strong>Bob</strong>, welcome to Parley!</p>"'
    newest = json.loads(lines[2])
    older = json.loads(lines[3])
    assert newest == {"ids": [4, 5, 6], "has_more": True}
    assert older == {"ids": [1, 2, 3], "has_more": False}
    assert lines[4:] == ["Hello **Bob**, welcome to Parley!"]
