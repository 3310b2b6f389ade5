"""Settings: the environment variables of CONTRACT.md, their defaults, and their validation.

Read only when asked (`Settings.from_env()`), never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "https://api.prod.qualifi.hr"
DEFAULT_WAREHOUSE_DIR = "./warehouse"
DEFAULT_REQUESTS_PER_HOUR = 1000
DEFAULT_REQUESTS_PER_MINUTE = 100
# Few requests in flight are enough: the budget (100/min), not latency, bounds throughput,
# and a small number keeps a burst from overshooting the server's window.
DEFAULT_CONCURRENCY = 8


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable, never its secret value."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    api_key: str | None
    base_url: str = DEFAULT_BASE_URL
    warehouse_dir: Path = Path(DEFAULT_WAREHOUSE_DIR)
    requests_per_hour: int = DEFAULT_REQUESTS_PER_HOUR
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            api_key=env.get("HUMANLY_API_KEY") or None,
            base_url=(env.get("HUMANLY_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            warehouse_dir=Path(env.get("HUMANLY_WAREHOUSE_DIR") or DEFAULT_WAREHOUSE_DIR),
            requests_per_hour=_int(env, "HUMANLY_REQUESTS_PER_HOUR", DEFAULT_REQUESTS_PER_HOUR),
            requests_per_minute=_int(
                env, "HUMANLY_REQUESTS_PER_MINUTE", DEFAULT_REQUESTS_PER_MINUTE
            ),
            concurrency=_int(env, "HUMANLY_CONCURRENCY", DEFAULT_CONCURRENCY, minimum=1),
        )

    def __repr__(self) -> str:  # the key never appears in a repr, a log or a traceback
        key = "***" if self.api_key else None
        return (
            f"Settings(api_key={key}, base_url={self.base_url!r}, "
            f"warehouse_dir={str(self.warehouse_dir)!r}, "
            f"requests_per_hour={self.requests_per_hour}, "
            f"requests_per_minute={self.requests_per_minute}, concurrency={self.concurrency})"
        )
