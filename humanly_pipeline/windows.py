"""The date windows runs cover: the first partition and the nightly / weekly lookbacks.

Free of Dagster on purpose, so the CLI can validate dates (and `sandbox`, `--help` start) without
importing it.
"""

from __future__ import annotations

from datetime import date, timedelta

# Far enough back for any Humanly tenant we expect; partitions before the first interview simply
# stay empty. A constant, because Dagster needs the partition set at import time.
PARTITIONS_START = "2022-01-01"

# How long interviews keep changing decides these; see schedules.py.
NIGHTLY_LOOKBACK_DAYS = 30
WEEKLY_LOOKBACK_DAYS = 180


def lookback_range(today: date, days: int) -> tuple[date, date]:
    """The `days` created dates ending with `today`, inclusive."""
    return today - timedelta(days=days - 1), today
