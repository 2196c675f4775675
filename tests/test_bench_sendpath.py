"""`python -m bench.sendpath` measures a send on Parley and on the relay, each send
reaching every member of its room and acked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("server", ["parley", "relay"])
def test_every_send_is_delivered_to_its_room_and_acked(server: str) -> None:
    # Its own process: the tool patches the standard library for gevent on import.
    small = ["--group", "2", "--sends", "20", "--rounds", "1", "--rooms", "2", "--per-room", "3"]
    found = subprocess.run(
        [sys.executable, "-m", "bench.sendpath", server, *small],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    # Three deliveries in a room of three, and the ack.
    assert "(4.0 packets written per send)" in found.stdout, found.stdout + found.stderr
