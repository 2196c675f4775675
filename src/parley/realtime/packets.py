"""Socket.IO packets, encoded as python-socketio encodes them, with the two steps that run
for every event and every ack made cheaper.

python-socketio takes a packet class of the application's for this (its `serializer`
option). Each packet first looks through its data for binary parts, and the stock check
builds a list and reduces it at every level; then it encodes the data with the `json`
module. Both run for two packets a message (the new message's event and its sender's
ack), so this class does each in one pass (the figures are in docs/performance.md).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from socketio import packet

from ..errors import ApiError
from ..extensions import socketio

# The event a packet too deeply nested to decode stands for; no client needs to send it.
NESTED_TOO_DEEPLY = "parley:nested_too_deeply"


class FastJSON:
    """The two functions python-socketio calls on its `json` module.

    orjson encodes; whatever it refuses (an integer past 64 bits echoed back in an
    error's details, say) is encoded by the standard library, as before. Decoding stays
    with the standard library: what clients send is parsed exactly as it always was,
    except data nested deeper than the decoder can recurse, which becomes the one event
    NESTED_TOO_DEEPLY (its ack id kept), so that the client gets an error ack.
    """

    @staticmethod
    def dumps(obj: Any, **_options: Any) -> str:
        try:
            return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
        except orjson.JSONEncodeError:
            return json.dumps(obj, separators=(",", ":"))

    @staticmethod
    def loads(text: str | bytes, **options: Any) -> Any:
        try:
            return json.loads(text, **options)
        except RecursionError:
            # Raised out of the packet's decoding, it lost the packet and its ack, and
            # logged a traceback per packet.
            return [NESTED_TOO_DEEPLY]


class Packet(packet.Packet):  # type: ignore[misc]  # python-socketio is untyped
    json = FastJSON

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        """True if bytes are anywhere in the data's lists and dicts, as python-socketio's
        own check answers, without building a list at every level."""
        pending = [data]
        while pending:
            item = pending.pop()
            if isinstance(item, bytes | bytearray):
                return True
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                pending.extend(item.values())
        return False


@socketio.on(NESTED_TOO_DEEPLY)  # type: ignore[untyped-decorator]  # Flask-SocketIO is untyped
def nested_too_deeply(*_data: Any) -> dict[str, Any]:
    error = ApiError("The payload is nested too deeply.", code="invalid_payload", status=422)
    return {"ok": False, **error.to_dict()}
