"""Parley's benchmark suite: `make bench` (minutes) and `make bench-smoke` (seconds).

Every figure is reported beside a baseline measured in the same run on the same machine:
a bare python-socketio server that only relays messages, the transport's ceiling.
"""
