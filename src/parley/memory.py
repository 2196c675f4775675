"""Garbage collector settings for a long-running server process."""

from __future__ import annotations

import gc

# Python's default runs a young collection every 700 allocations. Each database row and
# event makes dozens of objects, so under load the collector ran many times a second,
# and its full passes walked every object of thousands of idle connections: about a
# fifth of the server's time in the benchmark's profiles. Reference counting frees
# nearly everything here; the collector is only for cycles, and can run far less often.
YOUNG_THRESHOLD = 50_000
OLDER_THRESHOLDS = (20, 100)


def tune_garbage_collector() -> None:
    """Once the app is built: keep its objects out of every later collection (freeze) and
    collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
