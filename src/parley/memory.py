"""Garbage collector settings for a long-running server process."""

from __future__ import annotations

import gc

# Python's default runs a young collection every 700 allocations, and each database row
# and event makes dozens of objects. Freezing the startup objects and collecting the
# young generation far less often took the benchmark's persisted sends from 565 to about
# 750 a second (docs/performance.md). Reference counting frees nearly everything here;
# the collector is only for cycles.
YOUNG_THRESHOLD = 50_000
OLDER_THRESHOLDS = (20, 100)


def tune_garbage_collector() -> None:
    """Once the app is built: keep its objects out of every later collection (freeze) and
    collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
