"""A packet nested past what the JSON decoder can recurse into is answered, not dropped:
it was lost with a RecursionError traceback in the log and no ack (found by the socket
fuzz, tests/e2e/test_socket_fuzz.py)."""

from __future__ import annotations

import pytest
from realtime_support import Connect, error

from parley.realtime.packets import NESTED_TOO_DEEPLY, Packet
from support import Member


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_a_packet_nested_too_deeply_decodes_to_the_event_that_refuses_it(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    depth = 100_000
    packet = Packet(encoded_packet=f'27["sync",{opener * depth}1{closer * depth}]')
    assert packet.id == 7
    assert packet.data == [NESTED_TOO_DEEPLY]


def test_a_packet_nested_as_deep_as_a_client_may_send_decodes_as_sent() -> None:
    packet = Packet(encoded_packet='2["sync",' + "[" * 200 + "]" * 200 + "]")
    assert packet.data[0] == "sync"


def test_the_event_of_a_packet_nested_too_deeply_acks_an_invalid_payload(
    connect: Connect, alice: Member
) -> None:
    sock = connect(alice)
    error(sock.emit(NESTED_TOO_DEEPLY, callback=True), "invalid_payload")
