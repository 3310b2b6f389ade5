"""The data dictionary: one description per table, view and column, the same in DuckDB, in
Dagster and in docs/warehouse.md; and the row previews shown in Dagster."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from humanly_pipeline.assets import ALL_ASSETS, column_schema
from humanly_pipeline.dictionary import (
    DOCUMENTED_TABLES,
    REGENERATE,
    column_descriptions,
    render_markdown,
    table_description,
)
from humanly_pipeline.preview import duckdb_preview, markdown_rows, parquet_preview
from humanly_pipeline.publish import publish_duckdb
from humanly_pipeline.schemas import LOAD_ERRORS_SCHEMA, STATUS_HISTORY_SCHEMA, TABLES
from humanly_pipeline.views import VIEWS

ROOT = Path(__file__).resolve().parents[1]


def _published(warehouse: Path) -> Path:
    """An empty warehouse published the way a run publishes it (no Parquet files yet)."""
    extra = {
        "load_errors": LOAD_ERRORS_SCHEMA.empty_table(),
        "status_history": STATUS_HISTORY_SCHEMA.empty_table(),
    }
    return publish_duckdb(warehouse, warehouse / "parquet", extra).path


def test_docs_warehouse_md_is_generated_from_the_code() -> None:
    committed = (ROOT / "docs" / "warehouse.md").read_text()
    assert committed == render_markdown(), (
        f"docs/warehouse.md is out of date with the code; regenerate it: {REGENERATE}"
    )


def test_every_table_view_and_column_of_the_published_database_has_its_comment(
    warehouse: Path,
) -> None:
    con = duckdb.connect(str(_published(warehouse)), read_only=True)
    try:
        relations = dict(
            con.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal "
                "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        )
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal"
        ).fetchall()
    finally:
        con.close()
    assert set(relations) == {*TABLES, "load_errors", "status_history", *VIEWS}
    for name, comment in relations.items():
        assert comment == table_description(name) != "", name
    for table, column, comment in columns:
        assert comment and comment == column_descriptions(table)[column], (table, column)
    # and nothing described is missing from the database
    described = {(t, c) for t in relations for c in column_descriptions(t)}
    assert described == {(t, c) for t, c, _ in columns}


def test_dagster_shows_the_same_column_descriptions_and_every_asset_is_labelled() -> None:
    for name in TABLES:
        schema = column_schema(name)
        assert {c.name: c.description for c in schema.columns} == column_descriptions(name)
    for assets_def in ALL_ASSETS:
        for key in assets_def.keys:
            spec = assets_def.specs_by_key[key]
            label = key.to_user_string()
            assert spec.description and spec.group_name == "humanly", label
            assert spec.owners and spec.kinds, label
            if label in TABLES:
                assert spec.description.startswith(table_description(label))
                assert "dagster/column_schema" in spec.metadata, label


def test_every_documented_table_has_a_description_and_described_columns() -> None:
    for name, schema in DOCUMENTED_TABLES.items():
        assert table_description(name)
        assert set(column_descriptions(name)) == set(schema.names)
        assert all(column_descriptions(name).values()), name
    for name, view in VIEWS.items():
        assert view.description and all(view.columns.values()), name


def test_markdown_rows_cut_long_text_and_escape_pipes() -> None:
    con = duckdb.connect()
    md = markdown_rows(
        con, "SELECT 'a|b' AS x, repeat('z', 100) AS y, NULL AS z, 0.123456::DOUBLE AS w"
    ).splitlines()
    assert md[0] == "| x | y | z | w |"
    cells = md[2].strip("|").split(" | ")
    assert cells[0].strip() == "a\\|b"
    assert cells[1].endswith("…") and len(cells[1]) == 40
    assert cells[2] == "∅" and cells[3].strip() == "0.1235"
    assert markdown_rows(con, "SELECT 1 AS x WHERE false") == "*(no rows)*"


def test_previews_show_rows_of_the_parquet_tables_and_the_database(warehouse: Path) -> None:
    parquet = warehouse / "parquet" / "scorecards" / "status=hired" / "created_date=2026-01-02"
    parquet.mkdir(parents=True)
    rows = {
        f.name: [f"card-{f.name}"] if pa.types.is_string(f.type) else [None]
        for f in TABLES["scorecards"]
        if f.name not in ("status", "created_date")
    }
    rows["overall_score"] = [3.5]
    schema = pa.schema([f for f in TABLES["scorecards"] if f.name in rows])
    pq.write_table(pa.table(rows, schema=schema), parquet / "part-0.parquet")
    md = parquet_preview(warehouse / "parquet", "scorecards")
    assert md.splitlines()[0].startswith("| candidate_interview_id | scorecard_id |")
    assert "card-scorecard_name" in md and "| hired | 2026-01-02 |" in md and "3.5" in md
    assert parquet_preview(warehouse / "parquet", "ratings") == "*(no rows)*"
    overview = duckdb_preview(_published(warehouse))
    assert "| scorecards | table | 1 |" in overview
    assert "| funnel_daily | view | 0 |" in overview and "**funnel_daily**" in overview
