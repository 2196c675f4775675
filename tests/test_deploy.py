"""docs/deploy.md followed as written, and the files of deploy/ checked by their own
tools: the rendered Nginx configurations pass `nginx -t`, the systemd units pass
`systemd-analyze verify` (where it exists), deploy/gunicorn.conf.py says what
`parley serve` passes, and `make cluster` runs what the guide says it runs.

The guide's marked blocks run on a "machine" under a temporary folder: every path
under /etc, /srv, /var and /run moves there, `sudo` goes, and the steps that manage
services or owners (systemctl, chgrp, chown) are left out.
"""

from __future__ import annotations

import itertools
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from databases import IN_CI, unavailable

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "deploy.md"
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
MACHINE_PATH = re.compile(r"(?<![\w./-])/(etc|srv|var|run)/")
LEFT_OUT = ("systemctl ", "chgrp ", "chown ")


def require_nginx() -> str:
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        unavailable("nginx is not installed (make test installs it: apt-get install nginx)")
    assert found is not None
    return found


def require_systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        # Optional, even under CI: a machine without systemd has nothing to verify with.
        pytest.skip("systemd-analyze is not installed")
    return found


def guide_blocks(marker: str) -> list[str]:
    """The shell blocks of the guide that follow `<!-- marker ... -->`."""
    pattern = re.compile(rf"<!-- {re.escape(marker)}\b[^>]*-->\n```sh\n(.*?)```", re.DOTALL)
    blocks = pattern.findall(GUIDE.read_text())
    assert blocks, f"no {marker} block in {GUIDE}"
    return blocks


def on_machine(text: str, machine: Path) -> str:
    return MACHINE_PATH.sub(lambda m: f"{machine}/{m.group(1)}/", text)


def as_run_here(block: str, machine: Path, nginx: str) -> str:
    lines = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.replace("sudo -u parley ", "").replace("sudo ", "")
        if line.strip().startswith(LEFT_OUT):
            continue
        if shutil.which("systemd-analyze") is None and "systemd-analyze" in line:
            continue
        line = re.sub(
            r"^nginx -t$",
            f"{nginx} -t -c /etc/nginx/nginx.conf -e /var/log/nginx/error.log",
            line.strip(),
        )
        lines.append(line)
    return on_machine("\n".join(lines), machine)


def make_machine(machine: Path) -> None:
    """An empty Debian machine after the guide's steps 1 to 4: Debian's Nginx
    configuration, the app's files, a virtualenv whose `parley` is this one."""
    debian_nginx = Path("/etc/nginx/nginx.conf")
    if not debian_nginx.is_file():
        unavailable("Debian's nginx configuration (/etc/nginx/nginx.conf) is missing")
    shutil.copytree("/etc/nginx", machine / "etc" / "nginx", symlinks=True)
    for conf in (machine / "etc" / "nginx").glob("**/*.conf"):
        if conf.is_file() and not conf.is_symlink():
            conf.write_text(on_machine(conf.read_text(), machine))
    for folder in ("etc/ssl/certs", "etc/ssl/private", "etc/systemd/system", "var/log/nginx"):
        (machine / folder).mkdir(parents=True, exist_ok=True)
    (machine / "run").mkdir(exist_ok=True)
    app_units = machine / "srv" / "parley" / "app" / "deploy" / "systemd"
    app_units.mkdir(parents=True)
    for unit in (DEPLOY / "systemd").iterdir():
        (app_units / unit.name).write_text(on_machine(unit.read_text(), machine))
    venv_bin = machine / "srv" / "parley" / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "parley").write_text(f'#!/bin/sh\nexec {BIN / "parley"} "$@"\n')
    (venv_bin / "parley").chmod(0o755)
    (machine / "srv" / "parley" / "instance").mkdir()


def test_the_guide_runs_as_written(tmp_path: Path) -> None:
    """Settings, the `parley` helper, the units (verified), a certificate, the rendered
    site in Debian's Nginx and `nginx -t`: each block as the guide has it."""
    nginx = require_nginx()
    machine = tmp_path / "machine"
    make_machine(machine)
    script = "\n".join(as_run_here(block, machine, nginx) for block in guide_blocks("deploy-test"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{script}\n---\n{done.stdout}\n{done.stderr}"
    assert "test is successful" in done.stderr
    settings = dict(
        line.split("=", 1)
        for line in (machine / "etc" / "parley" / "parley.env").read_text().splitlines()
    )
    assert len(settings["SECRET_KEY"]) >= 32
    assert settings["PARLEY_TRUSTED_PROXIES"] == "1"
    site = (machine / "etc" / "nginx" / "sites-enabled" / "parley").read_text()
    assert "server 127.0.0.1:8001" in site and "server 127.0.0.1:8002" in site
    assert f"ssl_certificate {machine}/etc/ssl/certs/parley.crt;" in site
    assert not (machine / "etc" / "nginx" / "sites-enabled" / "default").exists()
    if shutil.which("systemd-analyze"):
        assert (machine / "etc" / "systemd" / "system" / "parley@.service").is_file()


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = require_systemd_analyze()
    machine = tmp_path / "machine"
    units = machine / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    venv_bin = machine / "srv" / "parley" / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "parley").symlink_to(BIN / "parley")
    for unit in (DEPLOY / "systemd").iterdir():
        (units / unit.name).write_text(on_machine(unit.read_text(), machine))
    checked = subprocess.run(
        [analyze, "verify", str(units / "parley@8001.service"), str(units / "parley.target")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout + checked.stderr == ""
    # And it would tell: a unit whose command is missing fails.
    (venv_bin / "parley").unlink()
    missing = subprocess.run(
        [analyze, "verify", str(units / "parley@8001.service")], capture_output=True, text=True
    )
    assert missing.returncode != 0 and "parley" in missing.stderr


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "parley.crt", folder / "parley.key"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subject = ["-subj", "/CN=chat.example.org", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        ["openssl", *request, *subject],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_the_example_site_is_the_template_rendered_and_passes_nginx_t(tmp_path: Path) -> None:
    """deploy/nginx/parley.conf is what the command in its first line renders now, and
    Nginx takes it (with a certificate where its placeholders point)."""
    nginx = require_nginx()
    example = (DEPLOY / "nginx" / "parley.conf").read_text()
    command = re.match(r"# Parley behind Nginx: rendered by `(parley [^`]+)`", example)
    assert command is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.pop("DATABASE_URL", None)
    args = shlex.split(command.group(1))
    rendered = subprocess.run(
        [BIN / "parley", *args[1:]], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert rendered == example, "deploy/nginx/parley.conf is stale: render it again"

    machine = tmp_path / "machine"
    (machine / "etc" / "ssl").mkdir(parents=True)
    (machine / "var" / "log" / "nginx").mkdir(parents=True)
    cert, key = self_signed(machine / "etc" / "ssl")
    site = on_machine(example, machine).replace(f"{machine}/etc/ssl/certs/parley.crt", str(cert))
    site = site.replace(f"{machine}/etc/ssl/private/parley.key", str(key))
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n    include {tmp_path}/site.conf;\n}}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_cluster_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    """What `parley cluster` writes for its own Nginx, before starting it."""
    from parley.cluster import Cluster
    from parley.config import load_config

    nginx = require_nginx()
    env = {"PARLEY_INSTANCE_PATH": str(tmp_path / "instance")}
    config = load_config("development", env["PARLEY_INSTANCE_PATH"], {})
    cluster = Cluster(3, 18080, env, config, nginx, echo=print)
    cluster.write_nginx_config()
    text = cluster.nginx_conf.read_text()
    assert "daemon off;" in text and "listen 127.0.0.1:18080;" in text
    assert [f"server 127.0.0.1:{p}" in text for p in (18081, 18082, 18083)] == [True] * 3
    assert "ssl_certificate" not in text
    checked = subprocess.run([*cluster.nginx_args(), "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def gunicorn_options(command: list[str]) -> dict[str, str]:
    options = {}
    for flag, value in itertools.pairwise(command):
        if flag.startswith("--"):
            options[flag] = value
    return options


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {
            "PARLEY_MAX_CONNECTIONS": "0",
            "PARLEY_HTTP_HEADER_SECONDS": "2.5",
            "PARLEY_SHUTDOWN_SECONDS": "20",
        },
    ],
)
def test_the_gunicorn_config_says_what_parley_serve_passes(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from parley.config import load_config
    from parley.production import gunicorn_command

    for name in ("PARLEY_MAX_CONNECTIONS", "PARLEY_HTTP_HEADER_SECONDS", "PARLEY_SHUTDOWN_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings: dict[str, Any] = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    command = gunicorn_command(load_config("development", str(tmp_path), environ), "x:1")
    passed = gunicorn_options(command)
    assert settings["worker_class"] == passed["--worker-class"] == "gevent"
    assert settings["workers"] == int(passed["--workers"]) == 1
    assert settings["worker_connections"] == int(passed["--worker-connections"])
    assert settings["keepalive"] == int(passed["--keep-alive"])
    assert settings["timeout"] == int(passed["--timeout"])
    assert settings["graceful_timeout"] == int(passed["--graceful-timeout"])
    assert settings["wsgi_app"] == command[-1]


def joined(shell: str) -> str:
    return " ".join(shell.replace("\\\n", " ").split())


def test_make_cluster_runs_what_the_guide_says(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        if IN_CI:
            pytest.fail("make is missing")
        pytest.skip("make is missing")
    # Its set-up steps (venv, page libraries, system packages, services, the database)
    # are taken as done: -o skips each.
    set_up = [".venv/.installed", "src/parley/static/vendor/.installed"]
    set_up += ["system-deps", "check-services", "cluster-db"]
    printed = subprocess.run(
        ["make", "-s", "-n", *(arg for target in set_up for arg in ("-o", target)), "cluster"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (guide_command,) = guide_blocks("make-cluster")
    assert joined(printed) == joined(guide_command)
    creates = subprocess.run(
        ["make", "-s", "-n", "cluster-db"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "createdb -h 127.0.0.1 -U postgres parley" in creates
