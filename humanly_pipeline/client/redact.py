"""Secret redaction for the client: the API key and every `inviteToken` value.

Owns one process-wide `Redactor` (known secrets + token patterns) and the `logging.Filter`
that applies it to every record of the client's logger and of httpx/httpcore, so that neither
a log line, an exception text nor a traceback can carry a credential.
"""

from __future__ import annotations

import logging
import re
import threading

LOGGER_NAME = "humanly_pipeline.client"
MASK = "***"

# inviteToken in JSON (`"inviteToken": "x"`), Python reprs (`'inviteToken': 'x'`) and
# query/form style (`inviteToken=x`). The value is replaced, the key name kept for debugging.
_INVITE_QUOTED = re.compile(r"""(["']inviteToken["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2""")
_INVITE_BARE = re.compile(r"""(\binviteToken\b["']?\s*[=:\s]\s*)(?!["'*])[^\s"',&;}\]]+""")
# Token values learned from responses are masked wherever they show up later, up to this many.
_MAX_LEARNED = 10_000


class Redactor:
    """Masks every registered secret and every inviteToken value in a text. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._keys: frozenset[str] = frozenset()
        self._learned: dict[str, None] = {}  # insertion-ordered, bounded

    def register(self, secret: str) -> None:
        # Very short strings would mask innocent text and cannot be real keys.
        if len(secret) >= 4:
            with self._lock:
                self._keys = self._keys | {secret}
                self._secrets = self._secrets | {secret}

    def learn(self, payload: object) -> None:
        """Remember every inviteToken value found in a parsed JSON payload."""
        found: list[str] = []
        stack = [payload]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "inviteToken" and isinstance(value, str) and len(value) >= 4:
                        found.append(value)
                    elif isinstance(value, dict | list):
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(v for v in node if isinstance(v, dict | list))
        if not found:
            return
        with self._lock:
            for value in found:
                self._learned[value] = None
            while len(self._learned) > _MAX_LEARNED:
                del self._learned[next(iter(self._learned))]
            self._secrets = frozenset(self._keys | set(self._learned))

    def redact(self, text: str) -> str:
        for secret in self._secrets:  # reading a frozenset needs no lock
            if secret in text:
                text = text.replace(secret, MASK)
        if "inviteToken" in text:
            text = _INVITE_QUOTED.sub(rf"\1\2{MASK}\2", text)
            text = _INVITE_BARE.sub(rf"\1{MASK}", text)
        return text


REDACTOR = Redactor()


def redact(text: str) -> str:
    return REDACTOR.redact(text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and its traceback text) with secrets masked."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        cleaned = REDACTOR.redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Handlers format exc_info lazily and reuse exc_text when it is set: set it redacted.
            record.exc_text = REDACTOR.redact(self._formatter.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = REDACTOR.redact(record.exc_text)
        return True


_FILTER = RedactingFilter()
_installed = False
_install_lock = threading.Lock()


def install_log_filter() -> None:
    """Attach the filter once to our logger and to httpx/httpcore (which log URLs and events)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        for name in (LOGGER_NAME, "httpx", "httpcore"):
            logging.getLogger(name).addFilter(_FILTER)
        _installed = True
