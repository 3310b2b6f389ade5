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

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
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


_TOP_KEYS: Final = frozenset(
    {
        "candidateInterviewId",
        "candidateId",
        "interviewId",
        "status",
        "takenAt",
        "transcriptions",
        "scores",
        "ratings",
        "summary",
        "summaryStatus",
        "scoreCard",
    }
)
_TRANSCRIPTION_KEYS: Final = frozenset(
    {
        "questionId",
        "questionTitle",
        "ordinal",
        "transcription",
        "durationSeconds",
        "language",
        "confidence",
        "audioUrl",
    }
)
_SCORE_KEYS: Final = frozenset({"questionId", "score", "maxScore", "source"})
_RATING_KEYS: Final = frozenset({"userId", "rating", "maxRating", "comment", "createdAt"})
_SCORECARD_KEYS: Final = frozenset(
    {"id", "name", "evaluationType", "overallScore", "maxScore", "evaluatedAt", "results"}
)
_CRITERION_KEYS: Final = frozenset(
    {"criterionId", "criterion", "score", "maxScore", "weight", "rationale"}
)


def _count_unknown(
    obj: dict[str, Any], known: frozenset[str], prefix: str, new: dict[str, int]
) -> None:
    for k in obj.keys() - known:
        if not _is_secret(k):
            _bump(new, prefix + k)


# ---------------------------------------------------------------------------------------------
# The builder: per-column Python lists, one Arrow conversion per column at the end.

# Child tables' id/status/created_date/_extracted_at are not appended per row: each child row
# records the index of its candidate_interviews row ("parent"), and those four columns are
# gathered with one vectorised `take` at the end.
_INHERITED: Final = ("candidate_interview_id", "status", "created_date", "_extracted_at")


class _Builder:
    def __init__(self) -> None:
        self.ci: dict[str, list[Any]] = {f.name: [] for f in schemas.CANDIDATE_INTERVIEWS}
        self.child: dict[str, dict[str, list[Any]]] = {
            name: {f.name: [] for f in schema if f.name not in _INHERITED} | {"_parent": []}
            for name, schema in schemas.TABLES.items()
            if name != "candidate_interviews"
        }
        self.errors: list[LoadError] = []
        self.new_fields: dict[str, int] = {}
        self.coerced: dict[str, int] = {}

    # -- one interview -------------------------------------------------------------------------

    def add(self, row: IndexRow, raw: RawResult | None) -> None:
        cid = row.candidate_interview_id
        ci = self.ci
        parent = len(ci["candidate_interview_id"])
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
                marks = {name: len(cols["_parent"]) for name, cols in self.child.items()}
                n_errors = len(self.errors)
                try:
                    top = self._payload(cid, raw, parent, data)
                except Exception as exc:  # a mapping bug must cost one payload, not the run
                    self._rollback(marks, n_errors)
                    self.errors.append(
                        LoadError(
                            cid, STAGE_FLATTEN, f"{type(exc).__name__}: {exc}"[:500], raw.raw_ref
                        )
                    )
                    quarantined = True
                else:
                    has_results = True
                    p_candidate, p_interview, taken_at, summary_status, results_status = top[:5]
                    has_scorecard, extra = top[5], top[6]
                    # The index is the truth, but the payload can fill what the listing lacked.
                    candidate_id = candidate_id if candidate_id is not None else p_candidate
                    interview_id = interview_id if interview_id is not None else p_interview

        ci["candidate_interview_id"].append(cid)
        ci["candidate_id"].append(candidate_id)
        ci["interview_id"].append(interview_id)
        ci["created_at"].append(row.created_at)
        ci["invite_sent_at"].append(row.invite_sent_at)
        ci["taken_at"].append(taken_at)
        ci["has_results"].append(has_results)
        ci["results_quarantined"].append(quarantined)
        ci["has_scorecard"].append(has_scorecard)
        ci["summary_status"].append(summary_status)
        ci["results_status"].append(results_status)
        ci["_extra"].append(extra)
        ci["status"].append(row.status)
        ci["created_date"].append(row.created_date)
        ci["_extracted_at"].append(extracted_at)

    def _rollback(self, marks: dict[str, int], n_errors: int) -> None:
        for name, cols in self.child.items():
            n = marks[name]
            for col in cols.values():
                del col[n:]
        del self.errors[n_errors:]

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
                return envelope["data"]
        self.errors.append(LoadError(cid, STAGE_PARSE, problem, raw.raw_ref))
        return None

    def _list(self, cid: str, raw: RawResult, value: Any, path: str) -> list[Any]:
        if type(value) is list:
            return value
        if value is not None:
            self.errors.append(
                LoadError(
                    cid,
                    STAGE_SHAPE,
                    f"'{path}' is a JSON {_json_type(value)}, expected an array; ignored",
                    raw.raw_ref,
                )
            )
        return []

    def _payload(
        self, cid: str, raw: RawResult, parent: int, data: dict[str, Any]
    ) -> tuple[Any, ...]:
        c = self.coerced
        new = self.new_fields
        get = data.get

        extra: str | None = None
        if not _TOP_KEYS.issuperset(data):
            unknown = {k: v for k, v in data.items() if k not in _TOP_KEYS and not _is_secret(k)}
            for k in unknown:
                _bump(new, k)
            if unknown:
                try:
                    extra = _dump_extra(_strip_secrets(unknown))
                except (RecursionError, ValueError, TypeError) as exc:
                    self.errors.append(
                        LoadError(
                            cid,
                            STAGE_SHAPE,
                            f"unmapped fields {sorted(k[:40] for k in unknown)[:10]} could not be "
                            f"kept in _extra ({type(exc).__name__})",
                            raw.raw_ref,
                        )
                    )

        payload_id = get("candidateInterviewId")
        if type(payload_id) is str and payload_id != cid:
            self.errors.append(
                LoadError(
                    cid,
                    STAGE_SHAPE,
                    "payload candidateInterviewId differs from the requested id; loaded under "
                    "the requested id",
                    raw.raw_ref,
                )
            )

        # -- transcriptions
        t = self.child["transcriptions"]
        t_parent, t_pos = t["_parent"].append, t["position"].append
        t_qid, t_ord, t_title = (
            t["question_id"].append,
            t["ordinal"].append,
            t["question_title"].append,
        )
        t_text, t_dur, t_lang = (
            t["transcription"].append,
            t["duration_seconds"].append,
            t["language"].append,
        )
        t_conf, t_audio = t["confidence"].append, t["audio_url"].append
        for pos, el in enumerate(self._list(cid, raw, get("transcriptions"), "transcriptions")):
            if type(el) is not dict:
                _bump(c, "transcriptions[]:skipped")
                continue
            if not _TRANSCRIPTION_KEYS.issuperset(el):
                _count_unknown(el, _TRANSCRIPTION_KEYS, "transcriptions[].", new)
            g = el.get
            t_qid(_str(g("questionId"), "transcriptions[].questionId", c))
            t_ord(_int32(g("ordinal"), "transcriptions[].ordinal", c))
            t_title(_str(g("questionTitle"), "transcriptions[].questionTitle", c))
            t_text(_str(g("transcription"), "transcriptions[].transcription", c))
            t_dur(_float(g("durationSeconds"), "transcriptions[].durationSeconds", c))
            t_lang(_str(g("language"), "transcriptions[].language", c))
            t_conf(_float(g("confidence"), "transcriptions[].confidence", c))
            t_audio(_str(g("audioUrl"), "transcriptions[].audioUrl", c))
            t_pos(pos)
            t_parent(parent)

        # -- scores
        s = self.child["scores"]
        for pos, el in enumerate(self._list(cid, raw, get("scores"), "scores")):
            if type(el) is not dict:
                _bump(c, "scores[]:skipped")
                continue
            if not _SCORE_KEYS.issuperset(el):
                _count_unknown(el, _SCORE_KEYS, "scores[].", new)
            g = el.get
            s["question_id"].append(_str(g("questionId"), "scores[].questionId", c))
            s["score"].append(_float(g("score"), "scores[].score", c))
            s["max_score"].append(_float(g("maxScore"), "scores[].maxScore", c))
            s["source"].append(_str(g("source"), "scores[].source", c))
            s["position"].append(pos)
            s["_parent"].append(parent)

        # -- ratings
        r = self.child["ratings"]
        for pos, el in enumerate(self._list(cid, raw, get("ratings"), "ratings")):
            if type(el) is not dict:
                _bump(c, "ratings[]:skipped")
                continue
            if not _RATING_KEYS.issuperset(el):
                _count_unknown(el, _RATING_KEYS, "ratings[].", new)
            g = el.get
            r["user_id"].append(_str(g("userId"), "ratings[].userId", c))
            r["rating"].append(_float(g("rating"), "ratings[].rating", c))
            r["max_rating"].append(_float(g("maxRating"), "ratings[].maxRating", c))
            r["comment"].append(_str(g("comment"), "ratings[].comment", c))
            r["rated_at"].append(_ts(g("createdAt"), "ratings[].createdAt", c))
            r["position"].append(pos)
            r["_parent"].append(parent)

        # -- summary: one row per readable payload, even when the summary is not there yet
        summary_status = _str(get("summaryStatus"), "summaryStatus", c)
        sm = self.child["summaries"]
        sm["summary_status"].append(summary_status)
        sm["summary"].append(_str(get("summary"), "summary", c))
        sm["_parent"].append(parent)

        # -- score card
        card: Any = get("scoreCard")
        has_card = type(card) is dict
        if has_card:
            if not _SCORECARD_KEYS.issuperset(card):
                _count_unknown(card, _SCORECARD_KEYS, "scoreCard.", new)
            g = card.get
            card_id = _str(g("id"), "scoreCard.id", c)
            sc = self.child["scorecards"]
            sc["scorecard_id"].append(card_id)
            sc["scorecard_name"].append(_str(g("name"), "scoreCard.name", c))
            sc["evaluation_type"].append(_str(g("evaluationType"), "scoreCard.evaluationType", c))
            sc["overall_score"].append(_float(g("overallScore"), "scoreCard.overallScore", c))
            sc["max_score"].append(_float(g("maxScore"), "scoreCard.maxScore", c))
            sc["evaluated_at"].append(_ts(g("evaluatedAt"), "scoreCard.evaluatedAt", c))
            sc["_parent"].append(parent)

            cr = self.child["scorecard_results"]
            for pos, el in enumerate(self._list(cid, raw, g("results"), "scoreCard.results")):
                if type(el) is not dict:
                    _bump(c, "scoreCard.results[]:skipped")
                    continue
                if not _CRITERION_KEYS.issuperset(el):
                    _count_unknown(el, _CRITERION_KEYS, "scoreCard.results[].", new)
                g2 = el.get
                cr["scorecard_id"].append(card_id)
                cr["criterion_id"].append(
                    _str(g2("criterionId"), "scoreCard.results[].criterionId", c)
                )
                cr["criterion"].append(_str(g2("criterion"), "scoreCard.results[].criterion", c))
                cr["score"].append(_float(g2("score"), "scoreCard.results[].score", c))
                cr["max_score"].append(_float(g2("maxScore"), "scoreCard.results[].maxScore", c))
                cr["weight"].append(_float(g2("weight"), "scoreCard.results[].weight", c))
                cr["rationale"].append(_str(g2("rationale"), "scoreCard.results[].rationale", c))
                cr["position"].append(pos)
                cr["_parent"].append(parent)
        elif card is not None:
            self.errors.append(
                LoadError(
                    cid,
                    STAGE_SHAPE,
                    f"'scoreCard' is a JSON {_json_type(card)}, expected an object; ignored",
                    raw.raw_ref,
                )
            )

        return (
            _str(get("candidateId"), "candidateId", c),
            _str(get("interviewId"), "interviewId", c),
            _ts(get("takenAt"), "takenAt", c),
            summary_status,
            _str(get("status"), "status", c),
            has_card,
            extra,
        )

    # -- Arrow ---------------------------------------------------------------------------------

    def tables(self) -> dict[str, pa.Table]:
        ci_schema = schemas.CANDIDATE_INTERVIEWS
        ci_arrays = {f.name: pa.array(self.ci[f.name], type=f.type) for f in ci_schema}
        out = {"candidate_interviews": pa.Table.from_pydict(ci_arrays, schema=ci_schema)}
        for name, cols in self.child.items():
            schema = schemas.TABLES[name]
            idx = pa.array(cols["_parent"], type=pa.int32())
            columns: dict[str, Any] = {}
            for f in schema:
                if f.name in _INHERITED:
                    columns[f.name] = ci_arrays[f.name].take(idx)
                else:
                    columns[f.name] = pa.array(cols[f.name], type=f.type)
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
    for cid in sorted(by_id):
        builder.add(by_id[cid], raws.get(cid))
    ignored = sum(1 for k in raws if k not in by_id) if len(raws) else 0
    return Flattened(
        tables=builder.tables(),
        errors=builder.errors,
        new_fields=dict(sorted(builder.new_fields.items())),
        coerced=dict(sorted(builder.coerced.items())),
        ignored_raws=ignored,
    )
