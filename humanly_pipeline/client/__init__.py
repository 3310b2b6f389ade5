"""The Gather API client (pure httpx, no Dagster): `GatherClient` and its public types.

Layout: `core` (the client: listing, fan-out, request policy), `budget` (the shared rate
budget), `types` (errors, value types, counters), `redact` (secret masking for logs/errors).
"""

from humanly_pipeline.client.budget import RateBudget, shared_budget
from humanly_pipeline.client.core import GatherClient, parse_timestamp
from humanly_pipeline.client.redact import redact
from humanly_pipeline.client.types import (
    ClientStats,
    GatherAuthError,
    GatherBudgetExhausted,
    GatherError,
    Listing,
    ProgressEvent,
    ResultOutcome,
)

__all__ = [
    "ClientStats",
    "GatherAuthError",
    "GatherBudgetExhausted",
    "GatherClient",
    "GatherError",
    "Listing",
    "ProgressEvent",
    "RateBudget",
    "ResultOutcome",
    "parse_timestamp",
    "redact",
    "shared_budget",
]
