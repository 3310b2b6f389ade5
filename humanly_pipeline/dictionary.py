"""The warehouse's data dictionary: one description per table, view and column, shown everywhere.

Descriptions are written once — columns in `schemas.py` (Arrow field metadata), views in
`views.py`, table descriptions here — and surfaced three ways: `apply_comments` writes them as
`COMMENT ON` into humanly.duckdb (so `duckdb_columns()` and DuckDB clients show them), assets.py
turns them into Dagster column schemas and asset descriptions, and `render_markdown` produces
docs/warehouse.md, which a test keeps in sync. Regenerate it with

    .venv/bin/python -m humanly_pipeline.dictionary > docs/warehouse.md
"""

from __future__ import annotations

import sys
from typing import Final

import duckdb
import pyarrow as pa

from humanly_pipeline.schemas import LOAD_ERRORS_SCHEMA, STATUS_HISTORY_SCHEMA, TABLES, describe
from humanly_pipeline.views import VIEWS, create_views, existing_relations

REGENERATE: Final = ".venv/bin/python -m humanly_pipeline.dictionary > docs/warehouse.md"

TABLE_DESCRIPTIONS: Final[dict[str, str]] = {
    "candidate_interviews": "One row per candidate interview, latest listed status.",
    "transcriptions": "One row per answered question, from the latest results payload.",
    "scores": "One row per score entry (question or overall).",
    "ratings": "One row per reviewer rating.",
    "summaries": "One row per interview with a results payload: AI summary and its status.",
    "scorecards": "One row per interview with a score card.",
    "scorecard_results": "One row per score-card criterion result.",
    "load_errors": "One row per results payload that could not be read, or read only in part "
    "(the quarantine): which interview, where it failed, why, and where the raw body is.",
    "status_history": "One row per candidate interview per status a listing pass saw it in, "
    "with the first and last time it was seen so.",
}

# Tables in documentation order, with the schema that documents their columns.
DOCUMENTED_TABLES: Final[dict[str, pa.Schema]] = {
    **TABLES,
    "load_errors": LOAD_ERRORS_SCHEMA,
    "status_history": STATUS_HISTORY_SCHEMA,
}


# The columns of candidate_interviews that interview_index (the listing) already knows.
INDEX_COLUMNS: Final[tuple[str, ...]] = (
    "candidate_interview_id",
    "candidate_id",
    "interview_id",
    "status",
    "created_at",
    "invite_sent_at",
    "created_date",
    "is_deleted",
    "deleted_at",
)


def table_description(name: str) -> str:
    """The one-line description of a table or view."""
    if name in VIEWS:
        return VIEWS[name].description
    return TABLE_DESCRIPTIONS[name]


def column_descriptions(name: str) -> dict[str, str]:
    """Column name -> description for a table or view of humanly.duckdb."""
    if name in VIEWS:
        return dict(VIEWS[name].columns)
    return describe(DOCUMENTED_TABLES[name])


def _literal(text: str) -> str:
    # COMMENT ON takes no parameters; the text is ours (code constants) but quote it properly.
    return "'" + text.replace("'", "''") + "'"


def apply_comments(con: duckdb.DuckDBPyConnection) -> None:
    """COMMENT ON every documented table, view and column present in `con`."""
    present = existing_relations(con)
    views = {
        name
        for (name,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    }
    for name in [*DOCUMENTED_TABLES, *VIEWS]:
        if name not in present:
            continue
        kind = "VIEW" if name in views else "TABLE"
        con.execute(f'COMMENT ON {kind} "{name}" IS {_literal(table_description(name))}')
        columns = {
            c
            for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [name]
            ).fetchall()
        }
        for column, text in column_descriptions(name).items():
            if column in columns and text:
                con.execute(f'COMMENT ON COLUMN "{name}"."{column}" IS {_literal(text)}')


def _example_database() -> duckdb.DuckDBPyConnection:
    """An in-memory humanly.duckdb with every documented table empty, its views and comments."""
    con = duckdb.connect()
    for name, schema in DOCUMENTED_TABLES.items():
        con.register("_source", schema.empty_table())
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _source')
        con.unregister("_source")
    create_views(con)
    apply_comments(con)
    return con


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def relations_markdown() -> str:
    """A Markdown table of every table and view of humanly.duckdb and what one row is."""
    lines = ["| name | kind | what one row is |", "|---|---|---|"]
    for name in [*DOCUMENTED_TABLES, *VIEWS]:
        kind = "view" if name in VIEWS else "table"
        lines.append(f"| [`{name}`](#{name}) | {kind} | {_cell(table_description(name))} |")
    return "\n".join(lines)


def render_markdown() -> str:
    """docs/warehouse.md: every table and view, its columns, their types and descriptions."""
    con = _example_database()
    try:
        lines = [
            "# The warehouse: humanly.duckdb",
            "",
            "<!-- Generated from the code by `humanly_pipeline/dictionary.py`; do not edit. -->",
            f"<!-- Regenerate: {REGENERATE} -->",
            "",
            "Every description below is also a `COMMENT` in humanly.duckdb "
            "(`SELECT table_name, column_name, comment FROM duckdb_columns()`) and a column "
            "description in Dagster. Timestamps are `TIMESTAMP WITH TIME ZONE` in UTC. "
            "Every per-interview table also has the Hive partition columns `status` and "
            "`created_date`.",
            "",
            relations_markdown(),
        ]
        for name in [*DOCUMENTED_TABLES, *VIEWS]:
            kind = "view" if name in VIEWS else "table"
            lines += ["", f"## {name}", "", f"*{kind}* — {table_description(name)}", ""]
            lines += ["| column | type | description |", "|---|---|---|"]
            rows = con.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() "
                "WHERE table_name = ? ORDER BY column_index",
                [name],
            ).fetchall()
            for column, data_type, comment in rows:
                lines.append(f"| `{column}` | {data_type} | {_cell(comment)} |")
            if name in VIEWS:
                lines += ["", "<details><summary>SQL</summary>", "", "```sql"]
                lines += [VIEWS[name].sql.strip(), "```", "", "</details>"]
        return "\n".join(lines) + "\n"
    finally:
        con.close()


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
