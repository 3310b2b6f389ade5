"""Pure transformation: interview index rows + raw results bodies -> Arrow tables + load errors.

This module owns the mapping from the Gather API's (partly *assumed*, see humanly-api.md)
results payload to the warehouse tables of ``schemas.TABLES``. It does no I/O, no network and
knows nothing of Dagster, so that a changed mapping can be replayed over the raw landing with
zero requests, and so that it can be tested exhaustively.

Robustness contract: ``flatten()`` never raises because of payload content. Whatever the bytes
of a body are, the result is either rows that match the schemas or a ``LoadError``:

- stage ``"parse"``: the body is not JSON, not an object, has no ``data`` field, or ``data`` is
  not an object. Nothing from that body is loaded; the interview still gets its
  ``candidate_interviews`` row, with ``has_results=False`` and ``results_quarantined=True``.
- stage ``"shape"``: a known container field (``transcriptions``, ``scores``, ``ratings``,
  ``scoreCard``, ``scoreCard.results``) is present but of the wrong type (treated as absent), the
  payload names another interview than the one requested, or unmapped fields could not be kept
  in ``_extra``. Everything else of the payload is loaded.
- stage ``"flatten"``: an unexpected error while mapping one payload (a bug here). That
  payload's rows are rolled back, the interview is marked quarantined, and the run goes on.

Field-level tolerance (counted in ``Flattened.coerced``, keyed by field path):
- numbers sent as strings (``"4"``, ``" 3.5 "``) become float64 / int32 -> ``"<path>"`` count;
  whole floats in integer columns (``1.0``) likewise; scalars in text columns become text.
- values that cannot be used (``"n/a"``, ``true`` for a score, an object for a title, an
  unparseable timestamp, an ordinal outside int32) become null -> ``"<path>:nulled"`` count.
- list elements that are not objects are skipped -> ``"<list path>[]:skipped"`` count; row
  ``position`` stays the element's index in the payload, so positions may have gaps.
- a missing or null field is simply null, and a missing or null list is empty (not counted).

Unknown fields (not in the assumed shape) are kept, never silently lost: top-level unknown
fields of ``data`` go verbatim into ``candidate_interviews._extra`` (a JSON object string,
sorted keys). Unknown fields *inside* known objects (e.g. ``scoreCard.results[].newThing``) are
for now only counted in ``Flattened.new_fields`` by path; their values stay in the raw landing,
from which a corrected mapping can be replayed. Top-level ones are counted there too.

``inviteToken`` is a credential: any key spelled like it (``inviteToken``, ``invite_token``,
...) is dropped wherever it appears, including deep inside ``_extra``, and is not counted.

Output is deterministic: rows are ordered by ``(candidate_interview_id, position)``.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any, Final

import orjson
import pyarrow as pa

from humanly_pipeline import schemas

STAGE_PARSE: Final = "parse"
STAGE_SHAPE: Final = "shape"
STAGE_FLATTEN: Final = "flatten"

# Used when a listing item carries no usable status: the row must still land in a partition.
UNKNOWN_STATUS: Final = "unknown"

_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One trimmed listing item, already parsed (see ``parse_index_item``)."""

    candidate_interview_id: str
    candidate_id: str | None
    interview_id: str | None
    status: str
    created_at: datetime | None
    invite_sent_at: datetime | None
    created_date: date
    # Set by the pipeline's ledger when a complete listing no longer contains the interview.
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RawResult:
    """One landed results response."""

    candidate_interview_id: str
    body: bytes  # the HTTP response body exactly as received: {"data": ..., "meta": ...}
    fetched_at: datetime
    raw_ref: str  # where it is landed, for quarantine references


@dataclass(frozen=True, slots=True)
class LoadError:
    """A payload (or part of one) that could not be loaded; ``stage`` is parse|shape|flatten."""

    candidate_interview_id: str
    stage: str
    error: str
    raw_ref: str | None


@dataclass
class Flattened:
    tables: dict[str, pa.Table]  # every table of schemas.TABLES, in that order, even when empty
    errors: list[LoadError]  # quarantine records, in candidate_interview_id order
    new_fields: dict[str, int]  # unknown field path -> number of objects it was seen in
    coerced: dict[str, int]  # field path (":nulled" suffix when nulled) -> count
    ignored_raws: int = 0  # raws whose id is not in the index (not flattened)


# ---------------------------------------------------------------------------------------------
# Timestamps and listing items


def parse_timestamp(value: Any) -> datetime | None:
    """ISO-8601 text (``Z``, ``.000Z``, ``+hh:mm``; naive means UTC) -> aware UTC datetime.

    Anything else (None, numbers, garbage, out-of-range dates) gives None: the caller decides
    whether that is an error.
    """
    if type(value) is str:
        # Length cap: fromisoformat is linear anyway, but garbage megabyte strings need no work.
        if len(value) > 64:
            return None
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    elif isinstance(value, datetime):
        dt = value
    else:
        return None
    try:
        if dt.tzinfo is None:
            return dt.replace(tzinfo=UTC)
        if dt.tzinfo is not UTC:
            return dt.astimezone(UTC)
    except (ValueError, OverflowError):  # e.g. 0001-01-01T00:00:00+01:00 falls before year 1
        return None
    return dt


def _plain_str(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    return None


def parse_index_item(item: Mapping[str, Any]) -> IndexRow:
    """Parse one trimmed listing item; ValueError with a clear message when id/createdAt unusable.

    A missing status becomes ``UNKNOWN_STATUS``; other missing fields become None.
    """
    if not isinstance(item, Mapping):
        raise ValueError(f"listing item is a {type(item).__name__}, expected an object")
    raw_id = item.get("id")
    cid = _plain_str(raw_id)
    if cid is None or not cid.strip():
        raise ValueError(f"listing item has no usable 'id' (got {_json_type(raw_id)})")
    created_at = parse_timestamp(item.get("createdAt"))
    if created_at is None:
        shown = repr(item.get("createdAt"))[:60]
        raise ValueError(f"listing item {cid!r} has no usable 'createdAt' (got {shown})")
    status = item.get("status")
    if type(status) is not str or not status.strip():
        status = UNKNOWN_STATUS
    return IndexRow(
        candidate_interview_id=cid,
        candidate_id=_plain_str(item.get("candidateId")),
        interview_id=_plain_str(item.get("interviewId")),
        status=status,
        created_at=created_at,
        invite_sent_at=parse_timestamp(item.get("inviteSentAt")),
        created_date=created_at.date(),
    )


# ---------------------------------------------------------------------------------------------
# Field coercion. Fast paths are inlined type checks because this runs ~50 times per payload;
# the slow paths count what they did in `coerced`.


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _float(v: Any, key: str, coerced: dict[str, int]) -> float | None:
    t = type(v)
    if t is float or v is None:
        return v  # orjson never yields nan/inf
    if t is int:
        return float(v)  # orjson ints fit in 64 bits, so this cannot overflow
    if t is str:
        s = v.strip()
        # float() would also accept "1_000", "nan", "inf": none of those is a score.
        if s and "_" not in s:
            try:
                f = float(s)
            except ValueError:
                pass
            else:
                if math.isfinite(f):
                    _bump(coerced, key)
                    return f
    _bump(coerced, key + ":nulled")
    return None


def _int32(v: Any, key: str, coerced: dict[str, int]) -> int | None:
    if v is None:
        return None
    t = type(v)
    if t is int and _INT32_MIN <= v <= _INT32_MAX:
        return v
    f: float | None = None
    if t is float:
        f = v
    elif t is str:
        s = v.strip()
        if s and "_" not in s:
            try:
                f = float(s)
            except ValueError:
                f = None
    if f is not None and math.isfinite(f) and f.is_integer() and _INT32_MIN <= f <= _INT32_MAX:
        _bump(coerced, key)
        return int(f)
    _bump(coerced, key + ":nulled")
    return None


def _str(v: Any, key: str, coerced: dict[str, int]) -> str | None:
    t = type(v)
    if t is str or v is None:
        return v
    if t is bool:
        _bump(coerced, key)
        return "true" if v else "false"
    if t is int or t is float:
        _bump(coerced, key)
        return str(v)
    _bump(coerced, key + ":nulled")  # an object or array where text belongs
    return None


def _ts(v: Any, key: str, coerced: dict[str, int]) -> datetime | None:
    if v is None:
        return None
    dt = parse_timestamp(v)
    if dt is None:
        _bump(coerced, key + ":nulled")
    return dt


# ---------------------------------------------------------------------------------------------
# Unknown fields and secrets


def _is_secret(key: str) -> bool:
    return key.replace("_", "").replace("-", "").lower() == "invitetoken"


def _strip_secrets(value: Any) -> Any:
    if type(value) is dict:
        return {k: _strip_secrets(v) for k, v in value.items() if not _is_secret(k)}
    if type(value) is list:
        return [_strip_secrets(v) for v in value]
    return value


def _dump_extra(extra: dict[str, Any]) -> str:
    try:
        return orjson.dumps(extra, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        # orjson stops at 254 levels of nesting; the stdlib goes deeper (and may still fail).
        return json.dumps(extra, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _count_unknown(
    obj: dict[str, Any], known: frozenset[str], prefix: str, new: dict[str, int]
) -> None:
    for k in obj.keys() - known:
        if not _is_secret(k):
            _bump(new, prefix + k)


# The builder.
#
# Speed comes from doing per-value work in C wherever possible (the target is ~3x the cost of
# orjson.loads): a list of well-formed elements (all objects, exactly the known keys) is turned
# into row tuples with one `map(itemgetter)`, and types are checked per *column* at the end with
# `set(map(type, column))`; only a column that holds an unexpected type is coerced value by
# value. Elements with missing or unknown keys take a slower per-element path.
#
# Child tables' id/status/created_date/_extracted_at are not stored per row: each child row
# records the index of its candidate_interviews row ("parent"), and those four columns are
# gathered with one vectorised `take` at the end.
_INHERITED: Final = ("candidate_interview_id", "status", "created_date", "_extracted_at")

_STR, _FLOAT, _INT32, _TS = "str", "float", "int32", "ts"
_BATCH: Final = 1000  # interviews per Arrow conversion (see _Builder.flush)
_NONE = type(None)


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one payload object (or list of objects) maps onto one table."""

    table: str
    path: str  # JSON path of the object or list, for messages and counters
    keys: tuple[str, ...]  # JSON keys, in the order of `columns`
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    known: frozenset[str]  # keys[] plus known keys that are not columns here

    @property
    def getter(self) -> Any:
        return itemgetter(*self.keys)


def _spec(table: str, path: str, fields: Sequence[tuple[str, str, str]], *other: str) -> _Spec:
    return _Spec(
        table,
        path,
        tuple(f[0] for f in fields),
        tuple(f[1] for f in fields),
        tuple(f[2] for f in fields),
        frozenset(f[0] for f in fields) | frozenset(other),
    )


_TRANSCRIPTIONS: Final = _spec(
    "transcriptions",
    "transcriptions[]",
    [
        ("questionId", "question_id", _STR),
        ("ordinal", "ordinal", _INT32),
        ("questionTitle", "question_title", _STR),
        ("transcription", "transcription", _STR),
        ("durationSeconds", "duration_seconds", _FLOAT),
        ("language", "language", _STR),
        ("confidence", "confidence", _FLOAT),
        ("audioUrl", "audio_url", _STR),
    ],
)
_SCORES: Final = _spec(
    "scores",
    "scores[]",
    [
        ("questionId", "question_id", _STR),
        ("score", "score", _FLOAT),
        ("maxScore", "max_score", _FLOAT),
        ("source", "source", _STR),
    ],
)
_RATINGS: Final = _spec(
    "ratings",
    "ratings[]",
    [
        ("userId", "user_id", _STR),
        ("rating", "rating", _FLOAT),
        ("maxRating", "max_rating", _FLOAT),
        ("comment", "comment", _STR),
        ("createdAt", "rated_at", _TS),
    ],
)
_SCORECARD: Final = _spec(
    "scorecards",
    "scoreCard",
    [
        ("id", "scorecard_id", _STR),
        ("name", "scorecard_name", _STR),
        ("evaluationType", "evaluation_type", _STR),
        ("overallScore", "overall_score", _FLOAT),
        ("maxScore", "max_score", _FLOAT),
        ("evaluatedAt", "evaluated_at", _TS),
    ],
    "results",
)
_CRITERIA: Final = _spec(
    "scorecard_results",
    "scoreCard.results[]",
    [
        ("criterionId", "criterion_id", _STR),
        ("criterion", "criterion", _STR),
        ("score", "score", _FLOAT),
        ("maxScore", "max_score", _FLOAT),
        ("weight", "weight", _FLOAT),
        ("rationale", "rationale", _STR),
    ],
)
_SUMMARY: Final = _spec(
    "summaries",
    "",
    [("summaryStatus", "summary_status", _STR), ("summary", "summary", _STR)],
)
_SPECS: Final = (_TRANSCRIPTIONS, _SCORES, _RATINGS, _SUMMARY, _SCORECARD, _CRITERIA)
_TOP_KEYS: Final = frozenset(
    {"candidateInterviewId", "candidateId", "interviewId", "status", "takenAt"}
    | {"transcriptions", "scores", "ratings", "summary", "summaryStatus", "scoreCard"}
)


class _Rows:
    """Row tuples of one child table, plus each row's parent index and list position."""

    __slots__ = ("getter", "nkeys", "parents", "positions", "rows", "spec")

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self.getter = spec.getter
        self.nkeys = len(spec.keys)
        self.rows: list[tuple[Any, ...]] = []
        self.parents: list[int] = []
        self.positions: list[int] = []


class _Builder:
    def __init__(self) -> None:
        # candidate_interviews rows as tuples in CANDIDATE_INTERVIEWS column order.
        self.ci_rows: list[tuple[Any, ...]] = []
        self.child: dict[str, _Rows] = {s.table: _Rows(s) for s in _SPECS}
        self._parent_lists = [r.parents for r in self.child.values()]
        self.card_ids: list[Any] = []  # scorecard_results.scorecard_id, raw (checked later)
        self.errors: list[LoadError] = []
        self.new_fields: dict[str, int] = {}
        self.coerced: dict[str, int] = {}
        self.parts: dict[str, list[pa.Table]] = {name: [] for name in schemas.TABLES}

    # -- one interview -------------------------------------------------------------------------

    def add(self, row: IndexRow, raw: RawResult | None) -> None:
        cid = row.candidate_interview_id
        parent = len(self.ci_rows)
        candidate_id, interview_id = row.candidate_id, row.interview_id
        taken_at: datetime | None = None
        summary_status: str | None = None
        results_status: str | None = None
        extra: str | None = None
        has_results = quarantined = has_scorecard = False
        extracted_at = raw.fetched_at if raw is not None else None

        if raw is not None:
            data = self._parse(cid, raw)
            if data is None:
                quarantined = True
            else:
                marks = tuple(map(len, self._parent_lists))
                n_cards, n_errors = len(self.card_ids), len(self.errors)
                try:
                    top = self._payload(cid, raw, parent, data)
                except Exception as exc:  # a mapping bug must cost one payload, not the run
                    for r, n in zip(self.child.values(), marks, strict=True):
                        del r.rows[n:], r.parents[n:], r.positions[n:]
                    del self.card_ids[n_cards:], self.errors[n_errors:]
                    message = f"{type(exc).__name__}: {exc}"[:500]
                    self.errors.append(LoadError(cid, STAGE_FLATTEN, message, raw.raw_ref))
                    quarantined = True
                else:
                    has_results = True
                    p_candidate, p_interview, taken_at, summary_status, results_status = top[:5]
                    has_scorecard, extra = top[5], top[6]
                    # The index is the truth, but the payload can fill what the listing lacked.
                    if candidate_id is None:
                        candidate_id = p_candidate
                    if interview_id is None:
                        interview_id = p_interview

        self.ci_rows.append(
            (
                cid,
                candidate_id,
                interview_id,
                row.created_at,
                row.invite_sent_at,
                taken_at,
                has_results,
                quarantined,
                has_scorecard,
                summary_status,
                results_status,
                row.deleted_at is not None,
                row.deleted_at,
                extra,
                row.status,
                row.created_date,
                extracted_at,
            )
        )

    def _parse(self, cid: str, raw: RawResult) -> dict[str, Any] | None:
        """The envelope's ``data`` object, or None after recording a parse LoadError."""
        problem: str
        try:
            envelope = orjson.loads(raw.body)
        except orjson.JSONDecodeError as exc:
            problem = "body is empty" if not raw.body else f"body is not valid JSON ({exc})"
        except Exception as exc:  # e.g. body is not bytes at all
            problem = f"body could not be decoded ({type(exc).__name__})"
        else:
            if type(envelope) is not dict:
                problem = f"body is a JSON {_json_type(envelope)}, expected an object with 'data'"
            elif "data" not in envelope:
                problem = "envelope has no 'data' field"
                err = envelope.get("error")
                if type(err) is dict and type(err.get("code")) is str:
                    problem += f" (API error {err['code'][:60]!r})"
                else:
                    keys = sorted(k[:40] for k in envelope)[:10]
                    problem += f" (top-level keys: {', '.join(keys) or 'none'})"
            elif type(envelope["data"]) is not dict:
                problem = f"'data' is a JSON {_json_type(envelope['data'])}, expected an object"
            else:
                data: dict[str, Any] = envelope["data"]
                return data
        self.errors.append(LoadError(cid, STAGE_PARSE, problem, raw.raw_ref))
        return None

    def _shape_error(self, cid: str, raw: RawResult, path: str, value: Any, expected: str) -> None:
        message = f"'{path}' is a JSON {_json_type(value)}, expected {expected}; ignored"
        self.errors.append(LoadError(cid, STAGE_SHAPE, message, raw.raw_ref))

    def _objects(self, rows: _Rows, items: Any, parent: int) -> int:
        """Append one row per object of the list `items`; returns how many rows were appended."""
        n = len(items)
        if not n:
            return 0
        try:
            # Succeeds only if every element is an object with at least the known keys (a list,
            # string or number element raises TypeError, a missing key KeyError) ...
            got = list(map(rows.getter, items))
        except (KeyError, TypeError):
            got = None
        # ... and then the key counts tell whether any element has more than the known keys.
        if got is not None and sum(map(len, items)) == rows.nkeys * n:
            rows.rows.extend(got)
            rows.parents.extend([parent] * n)
            rows.positions.extend(range(n))
            return n
        spec = rows.spec
        appended = 0
        for pos, el in enumerate(items):
            if type(el) is not dict:
                _bump(self.coerced, spec.path + ":skipped")
                continue
            if not spec.known.issuperset(el):
                _count_unknown(el, spec.known, spec.path + ".", self.new_fields)
            rows.rows.append(tuple(map(el.get, spec.keys)))
            rows.parents.append(parent)
            rows.positions.append(pos)
            appended += 1
        return appended

    def _payload(
        self, cid: str, raw: RawResult, parent: int, data: dict[str, Any]
    ) -> tuple[Any, ...]:
        c = self.coerced
        get = data.get

        extra: str | None = None
        if not _TOP_KEYS.issuperset(data):
            extra = self._extra(cid, raw, data)

        payload_id = get("candidateInterviewId")
        if type(payload_id) is str and payload_id != cid:
            message = (
                "payload candidateInterviewId differs from the requested id; loaded under the "
                "requested id"
            )
            self.errors.append(LoadError(cid, STAGE_SHAPE, message, raw.raw_ref))

        child = self.child
        objects = self._objects
        for name in ("transcriptions", "scores", "ratings"):
            items = get(name)
            if type(items) is list:
                objects(child[name], items, parent)
            elif items is not None:
                self._shape_error(cid, raw, name, items, "an array")

        # One summaries row per readable payload, even when the summary is not there yet.
        summary_status = get("summaryStatus")
        summaries = child["summaries"]
        summaries.rows.append((summary_status, get("summary")))
        summaries.parents.append(parent)
        summaries.positions.append(0)

        card: Any = get("scoreCard")
        has_card = type(card) is dict
        if has_card:
            cards = child["scorecards"]
            spec = cards.spec
            if not spec.known.issuperset(card):
                _count_unknown(card, spec.known, "scoreCard.", self.new_fields)
            cards.rows.append(tuple(map(card.get, spec.keys)))
            cards.parents.append(parent)
            cards.positions.append(0)
            items = card.get("results")
            if type(items) is list:
                n = objects(child["scorecard_results"], items, parent)
                self.card_ids.extend([card.get("id")] * n)
            elif items is not None:
                self._shape_error(cid, raw, "scoreCard.results", items, "an array")
        elif card is not None:
            self._shape_error(cid, raw, "scoreCard", card, "an object")

        return (
            _str(get("candidateId"), "candidateId", c),
            _str(get("interviewId"), "interviewId", c),
            _ts(get("takenAt"), "takenAt", c),
            # Counted once, where the summaries column is built.
            _str(summary_status, "summaryStatus", {}),
            _str(get("status"), "status", c),
            has_card,
            extra,
        )

    def _extra(self, cid: str, raw: RawResult, data: dict[str, Any]) -> str | None:
        unknown = {k: v for k, v in data.items() if k not in _TOP_KEYS and not _is_secret(k)}
        if not unknown:
            return None
        for k in unknown:
            _bump(self.new_fields, k)
        try:
            return _dump_extra(_strip_secrets(unknown))
        except (RecursionError, ValueError, TypeError) as exc:
            names = sorted(k[:40] for k in unknown)[:10]
            message = f"unmapped fields {names} could not be kept in _extra ({type(exc).__name__})"
            self.errors.append(LoadError(cid, STAGE_SHAPE, message, raw.raw_ref))
            return None

    # -- Arrow ---------------------------------------------------------------------------------

    def _column(self, values: list[Any], kind: str, key: str, type_: pa.DataType) -> pa.Array:
        """Arrow array of one column, coercing value by value only if some value needs it."""
        c = self.coerced
        if kind == _STR:
            try:  # Arrow refuses anything but str/None here (bytes cannot come from JSON)
                return pa.array(values, type=type_)
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                values = [v if v is None or type(v) is str else _str(v, key, c) for v in values]
        elif kind == _FLOAT:
            # Arrow would silently take True as 1.0, so look at the types first; ints beyond
            # 2**53 make it refuse, which is rare enough to try first.
            if set(map(type, values)) <= {float, int, _NONE}:
                try:
                    return pa.array(values, type=type_)
                except (pa.ArrowInvalid, OverflowError):
                    pass
            values = [v if type(v) is float else _float(v, key, c) for v in values]
        elif kind == _INT32:
            if set(map(type, values)) <= {int, _NONE}:  # Arrow would truncate 1.5 to 1
                try:
                    return pa.array(values, type=type_)
                except (pa.ArrowInvalid, OverflowError):
                    pass
            values = [_int32(v, key, c) for v in values]
        else:
            values = [_ts(v, key, c) for v in values]
        return pa.array(values, type=type_)

    def flush(self) -> None:
        """Convert the rows gathered so far to Arrow and drop the Python objects.

        Called every ``_BATCH`` interviews: the parsed objects of one batch are freed before the
        next is parsed, so memory stays bounded by the Arrow output plus one batch, and the
        allocator reuses warm memory instead of faulting in fresh pages.
        """
        if not self.ci_rows:
            return
        for name, table in self._tables().items():
            self.parts[name].append(table)
        self.ci_rows.clear()
        for r in self.child.values():
            r.rows.clear()
            r.parents.clear()
            r.positions.clear()
        self.card_ids.clear()

    def tables(self) -> dict[str, pa.Table]:
        self.flush()
        return {
            name: pa.concat_tables(self.parts[name]) if self.parts[name] else schema.empty_table()
            for name, schema in schemas.TABLES.items()
        }

    def _tables(self) -> dict[str, pa.Table]:
        ci_schema = schemas.CANDIDATE_INTERVIEWS
        ci_arrays = {
            f.name: pa.array(list(map(itemgetter(i), self.ci_rows)), type=f.type)
            for i, f in enumerate(ci_schema)
        }
        out = {"candidate_interviews": pa.Table.from_pydict(ci_arrays, schema=ci_schema)}
        for name, schema in schemas.TABLES.items():
            if name == "candidate_interviews":
                continue
            rows = self.child[name]
            spec = rows.spec
            prefix = spec.path + "." if spec.path else ""
            idx = pa.array(rows.parents, type=pa.int32())
            columns: dict[str, Any] = {}
            for f in schema:
                if f.name in _INHERITED:
                    columns[f.name] = ci_arrays[f.name].take(idx)
                elif f.name == "position":
                    columns[f.name] = pa.array(rows.positions, type=f.type)
                elif name == "scorecard_results" and f.name == "scorecard_id":
                    columns[f.name] = self._column(self.card_ids, _STR, "scoreCard.id", f.type)
                else:
                    i = spec.columns.index(f.name)
                    # Per-column itemgetter is faster than transposing with zip(*rows).
                    values = list(map(itemgetter(i), rows.rows))
                    columns[f.name] = self._column(
                        values, spec.kinds[i], prefix + spec.keys[i], f.type
                    )
            out[name] = pa.Table.from_pydict(columns, schema=schema)
        return out


def flatten(index_rows: Sequence[IndexRow], raws: Mapping[str, RawResult]) -> Flattened:
    """Flatten the interview index plus the latest raw results per id into the warehouse tables.

    - One ``candidate_interviews`` row per distinct id of ``index_rows`` (when an id repeats,
      the later row wins). The index is the truth for id, status and created_date, and ``status``
      in every table is the index row's (latest listed) status, never the payload's.
    - Child tables come only from ``raws[id]`` for ids present in ``index_rows``; raws for ids
      not in the index are ignored (counted in ``Flattened.ignored_raws``) because they could
      not be partitioned. ``raws`` is looked up by the index id, not ``RawResult``'s own id.
    - Never raises for any body content; see the module docstring for the error stages.
    """
    by_id: dict[str, IndexRow] = {row.candidate_interview_id: row for row in index_rows}
    builder = _Builder()
    # Parsing allocates millions of short-lived dicts and lists, which triggers the cyclic GC
    # over and over, and each full pass re-walks the ever-growing column lists. Nothing here
    # creates reference cycles (JSON cannot), so pausing it is safe and saves ~30% of the time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for n, cid in enumerate(sorted(by_id), 1):
            builder.add(by_id[cid], raws.get(cid))
            if n % _BATCH == 0:
                builder.flush()
    finally:
        if gc_was_enabled:
            gc.enable()
    ignored = sum(1 for k in raws if k not in by_id) if len(raws) else 0
    return Flattened(
        tables=builder.tables(),
        errors=builder.errors,
        new_fields=dict(sorted(builder.new_fields.items())),
        coerced=dict(sorted(builder.coerced.items())),
        ignored_raws=ignored,
    )
