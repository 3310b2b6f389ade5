"""Markdown previews of warehouse rows, for Dagster's asset metadata (`MetadataValue.md`).

This module owns how a few rows look in the Dagster UI: a small Markdown table with long texts
cut short, so that a glance at an asset shows what its data looks like without opening DuckDB.
Previews read only; relation names come from code constants, never from data.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from humanly_pipeline.dictionary import table_description

PREVIEW_ROWS = 5
MAX_CELL = 40  # characters; transcripts and rationales would otherwise swamp the table


def _cell(value: Any) -> str:
    if value is None:
        text = "∅"
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    text = text.replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def markdown_rows(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The result of `sql` (a query built from constants) as a Markdown table."""
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description or []]
    rows = cursor.fetchall()
    if not rows:
        return "*(no rows)*"
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def parquet_preview(parquet_root: Path, name: str, limit: int = PREVIEW_ROWS) -> str:
    """A few rows of one warehouse table from its newest created_date: reading that one date's
    files keeps the preview's cost flat however large the table grows."""
    days = sorted({p.parent.name for p in (parquet_root / name).glob("status=*/created_date=*/*")})
    if not days:
        return "*(no rows)*"
    con = duckdb.connect(config={"memory_limit": "256MB", "threads": 1})
    try:
        newest = [str(p) for p in (parquet_root / name).glob(f"status=*/{days[-1]}/*.parquet")]
        rel = con.read_parquet(newest, hive_partitioning=True)
        names = ", ".join(c for c in rel.columns if c not in ("status", "created_date"))
        con.register("_preview", rel)
        return markdown_rows(
            con,
            f"SELECT {names}, url_decode(status) AS status, created_date FROM _preview "
            f"LIMIT {int(limit)}",
        )
    finally:
        con.close()


def duckdb_preview(path: Path, limit: int = PREVIEW_ROWS) -> str:
    """What humanly.duckdb holds: its tables and views with row counts, and the latest funnel."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        relations = con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'main' "
            "ORDER BY table_type, table_name"
        ).fetchall()
        lines = ["| name | kind | rows | description |", "|---|---|---|---|"]
        for name, kind in relations:
            row = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
            try:
                description = table_description(name)
            except KeyError:
                description = ""
            kind_text = "view" if kind == "VIEW" else "table"
            lines.append(f"| {name} | {kind_text} | {row[0] if row else 0:,} | {description} |")
        parts = ["\n".join(lines)]
        if any(name == "funnel_daily" for name, _ in relations):
            latest = markdown_rows(
                con,
                "SELECT * FROM (SELECT * FROM funnel_daily ORDER BY created_date DESC "
                f"LIMIT {int(limit)}) ORDER BY created_date",
            )
            parts += ["**funnel_daily**, latest days", latest]
        return "\n\n".join(parts)
    finally:
        con.close()
