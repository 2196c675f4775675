"""The pre-commit hooks judge as `make lint` and `make typecheck` do."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def hooks_of(repo_url: str) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    (repo,) = (r for r in config["repos"] if r["repo"] == repo_url)
    return dict(repo)


def pinned(package: str) -> str:
    text = (ROOT / "constraints.txt").read_text()
    found = re.search(rf"^{re.escape(package)}==(\S+)$", text, re.MULTILINE)
    assert found, f"{package} is not pinned in constraints.txt"
    return found.group(1)


def test_the_ruff_hook_runs_the_ruff_that_constraints_pin() -> None:
    ruff = hooks_of("https://github.com/astral-sh/ruff-pre-commit")
    assert ruff["rev"] == f"v{pinned('ruff')}"
    assert [hook["id"] for hook in ruff["hooks"]] == ["ruff-check", "ruff-format"]


def test_the_mypy_hook_runs_the_projects_mypy_over_what_its_config_names() -> None:
    (mypy,) = hooks_of("local")["hooks"]
    makefile = (ROOT / "Makefile").read_text()
    venv = re.search(r"^VENV \?= (\S+)$", makefile, re.MULTILINE)
    assert venv and mypy["entry"] == f"{venv.group(1)}/bin/mypy"
    assert mypy["language"] == "system"
    # File names would narrow mypy to the changed files and lose the cross-module check.
    assert mypy["pass_filenames"] is False
