"""What the whole machine did during a step: the CPU every process used, and the time
the hypervisor gave our virtual cores to someone else (steal). On a shared machine the
second is what makes one run differ from the next."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STAT = Path("/proc/stat")
# /proc/stat's "cpu" line: user nice system idle iowait irq softirq steal ...
BUSY_FIELDS = (0, 1, 2, 5, 6)
STEAL_FIELD = 7


@dataclass(frozen=True)
class CpuTimes:
    """Seconds of CPU summed over every core since boot."""

    busy: float
    steal: float

    @classmethod
    def now(cls, stat: Path = STAT) -> CpuTimes | None:
        try:
            first = stat.read_text().splitlines()[0].split()
        except (OSError, IndexError):
            return None
        if first[0] != "cpu":
            return None
        ticks = [int(value) for value in first[1:]]
        per_second = os.sysconf("SC_CLK_TCK")
        steal = ticks[STEAL_FIELD] if len(ticks) > STEAL_FIELD else 0
        return cls(
            busy=sum(ticks[i] for i in BUSY_FIELDS if i < len(ticks)) / per_second,
            steal=steal / per_second,
        )


def cores_used(before: CpuTimes | None, after: CpuTimes | None, seconds: float) -> dict[str, float]:
    """Cores busy and cores stolen on average between two readings (none off Linux)."""
    if before is None or after is None or seconds <= 0:
        return {}
    return {
        "machine_cpu_s_per_s": round((after.busy - before.busy) / seconds, 3),
        "steal_s_per_s": round((after.steal - before.steal) / seconds, 3),
    }
