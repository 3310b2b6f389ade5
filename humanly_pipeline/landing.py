"""The raw landing: every results body written durably under `raw/` the moment it arrives.

One file per interview (`raw/results/created_date=YYYY-MM-DD/<id>.json`), holding the latest body
exactly as the API sent it, so a killed run never re-spends a request it already paid for and a
changed mapping can be replayed without calling the API. The one exception to "exactly": an
`inviteToken` (a credential) is removed before anything touches the disk.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date
from pathlib import Path

import orjson

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TOKEN_BYTES = b"inviteToken"
# For bodies that are not even JSON, a blunt textual redaction is the best that can be done.
_TOKEN_TEXT = re.compile(rb'"inviteToken"\s*:\s*"(?:[^"\\]|\\.)*"')


def safe_file_name(candidate_interview_id: str) -> str:
    """A file name for an id from the API: the id itself when harmless, else its hash."""
    if _SAFE_NAME.fullmatch(candidate_interview_id):
        return candidate_interview_id
    return "h-" + hashlib.sha256(candidate_interview_id.encode()).hexdigest()[:40]


def strip_invite_tokens(body: bytes) -> bytes:
    """The body without any `inviteToken` field, anywhere in it (unchanged when there is none)."""
    if _TOKEN_BYTES not in body:
        return body
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _TOKEN_TEXT.sub(b'"inviteToken":null', body)
    return orjson.dumps(_drop_tokens(parsed))


def _drop_tokens(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop_tokens(v) for k, v in value.items() if k != "inviteToken"}
    if isinstance(value, list):
        return [_drop_tokens(v) for v in value]
    return value


class RawStore:
    """Raw result bodies under one root directory; refs are paths relative to that root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def land(self, candidate_interview_id: str, created_date: date, body: bytes) -> str:
        name = safe_file_name(candidate_interview_id)
        ref = f"results/created_date={created_date.isoformat()}/{name}.json"
        target = self.root / ref
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: a reader (or a resumed run) sees the old body or
        # the new one, never half of one.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(strip_invite_tokens(body))
        os.replace(tmp, target)
        return ref

    def read(self, ref: str) -> bytes:
        return (self.root / ref).read_bytes()

    def remove(self, ref: str) -> None:
        (self.root / ref).unlink(missing_ok=True)

    def sweep_temporaries(self) -> int:
        """Delete half-written files a killed run left behind."""
        count = 0
        for tmp in self.root.glob("results/*/.*.tmp"):
            tmp.unlink(missing_ok=True)
            count += 1
        return count
