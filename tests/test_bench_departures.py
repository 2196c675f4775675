"""Between measurements the benchmark waits until the clients that left are offline in
Parley's eyes, so their departures are not measured as part of what comes next."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.plan import FULL, SMOKE
from bench.servers import DEPARTURE_MARGIN_SECONDS, IDLE_SAMPLE_SECONDS, Server

from parley.config import Config


@pytest.fixture
def idle_process() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_a_full_run_waits_out_parleys_own_presence_grace() -> None:
    assert FULL.presence_grace_seconds == Config.PARLEY_PRESENCE_GRACE_SECONDS
    assert SMOKE.presence_grace_seconds < 1


def test_departures_are_waited_out_before_the_server_is_waited_idle(
    idle_process: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    server = Server(
        "parley",
        "gevent",
        "http://127.0.0.1:1",
        idle_process,
        tmp_path / "log",
        departure_seconds=1.5 + DEPARTURE_MARGIN_SECONDS,
    )

    waited = server.wait_out_departures()

    # The departures first, then two quiet samples of an idle process: waiting for idle
    # alone would take only the samples.
    assert waited >= server.departure_seconds + 2 * IDLE_SAMPLE_SECONDS
    assert waited < server.departure_seconds + 10
