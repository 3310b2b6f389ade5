"""The embedded sandbox: a real HTTP server on loopback imitating Humanly's Gather API.

Seeded data, a virtual clock moved by `advance()`, rate limits and fault knobs; see
docs/sandbox.md. The pipeline never imports this package; tests and the demo do.
"""

from __future__ import annotations

from humanly_pipeline.sandbox.data import World
from humanly_pipeline.sandbox.faults import Faults
from humanly_pipeline.sandbox.server import Sandbox, default_api_key

__all__ = ["Faults", "Sandbox", "World", "default_api_key"]
