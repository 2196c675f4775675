"""The machinery under the actions: how messages are written (the bounded send queue,
the group commit and its SQL), the room change sequence, and the access checks kept
between requests. Actions call it; transports never do.
"""
