"""The domain layer: every state change, one function each.

Each action validates, authorizes, writes in one transaction and queues the events that
describe the change; the events are published only after the commit. Every transport
(REST, Socket.IO, the CLI) calls these and nothing below them.
"""
