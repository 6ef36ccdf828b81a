"""EES data and metadata files, atomic writes, the release ZIP and the data guidance."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import polars as pl
import pytest

from cin_assets.datasets.catalogue import DATASETS
from cin_assets.disclosure import DisclosureConfig
from cin_assets.measures import build
from cin_assets.publish import bundle, ees, guidance


def _published(code: str, year: int) -> pl.DataFrame:
    """An unprotected frame turned into text the way disclosure formats it (enough for file tests)."""
    frame = build(DATASETS[code], year)
    return frame.with_columns(
        pl.col(i.name).cast(pl.String).fill_null(":") for i in DATASETS[code].indicators
    )


def test_meta_rows_follow_the_ees_rules() -> None:
    a4 = ees.meta_frame(DATASETS["A4"])
    assert a4.columns == list(ees.META_COLUMNS)
    filters = a4.filter(pl.col("col_type") == "Filter")
    # characteristic_type is the grouping column of characteristic: no row of its own
    assert filters.rows() == [
        (
            "characteristic",
            "Filter",
            "Characteristic",
            "",
            "",
            "",
            "Filter by characteristic of the child",
            "characteristic_type",
        )
    ]
    indicators = a4.filter(pl.col("col_type") == "Indicator")
    assert indicators["col_name"].to_list() == [i.name for i in DATASETS["A4"].indicators]
    assert set(indicators["indicator_dp"]) == {"0"}
    b1 = ees.meta_frame(DATASETS["B1"])
    assert b1.filter(pl.col("col_type") == "Filter").is_empty()  # the constant category has no row
    assert b1.filter(pl.col("col_name") == "At31_episodes_rate")["indicator_dp"].item() == "1"
    b2 = ees.meta_frame(DATASETS["B2"])
    assert b2.filter(pl.col("col_name") == "Autism_percent")["indicator_unit"].item() == "%"
    for ds in DATASETS.values():
        meta = ees.meta_frame(ds)
        assert meta["label"].n_unique() == meta.height
        assert meta.select(pl.all().is_null().any()).row(0) == (False,) * len(ees.META_COLUMNS)


def test_data_files_are_byte_stable_and_complete() -> None:
    ds = DATASETS["P"]
    release = ees.release_frame(ds, {2019: _published("P", 2019), 2020: _published("P", 2020)})
    assert release["time_period"].unique(maintain_order=True).to_list() == ["2019", "2018"]
    files = ees.data_set_files(ds, release)
    assert set(files) == {f"{ds.stem}.csv", f"{ds.stem}.meta.csv"}
    data = files[f"{ds.stem}.csv"]
    assert data == ees.data_set_files(ds, release)[f"{ds.stem}.csv"]
    assert b"\r" not in data and data.endswith(b"\n")
    back = pl.read_csv(io.BytesIO(data), infer_schema=False)
    assert back.columns == list(ds.columns)
    assert back.height == release.height == 2 * (1 + 11) + 151 + 152
    assert back.filter(pl.col("geographic_level") == "National")["old_la_code"].is_null().all()
    assert '"Bristol, City of"' in data.decode()  # a name with a comma is quoted


def test_write_data_set_writes_both_files(tmp_path: Path) -> None:
    ds = DATASETS["D3"]
    release = ees.release_frame(ds, {2020: _published("D3", 2020)})
    paths = ees.write_data_set(tmp_path, ds, release)
    assert [p.name for p in paths] == [f"{ds.stem}.csv", f"{ds.stem}.meta.csv"]
    assert pl.read_csv(paths[1])["col_name"].to_list() == [
        "CPP_start",
        "CPP_subsequent",
        "CPP_subsequent_percent",
    ]


def test_files_breaking_the_contract_are_refused() -> None:
    ds = DATASETS["D3"]
    frame = _published("D3", 2020)
    with pytest.raises(ValueError, match="blank indicator"):
        ees.data_set_files(ds, frame.with_columns(pl.lit(None, dtype=pl.String).alias("CPP_start")))
    with pytest.raises(ValueError, match="columns"):
        ees.data_set_files(ds, frame.drop("CPP_subsequent"))
    with pytest.raises(TypeError, match="text"):
        ees.release_frame(ds, {2020: build(ds, 2020)})


def test_a_failed_write_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "published" / "x.csv"
    ees.write_bytes_atomic(target, b"old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        ees.write_bytes_atomic(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.csv"]  # no temporary file left behind


def test_zip_is_deterministic(tmp_path: Path) -> None:
    members = bundle.release_members({"b.csv": b"2\n", "a.csv": b"1\n"}, b"# guide\n", "data_guidance.md")
    first = bundle.zip_bytes(members)
    assert first == bundle.zip_bytes(dict(reversed(list(members.items()))))
    bundle.write_zip(tmp_path / "all.zip", members)
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        assert archive.namelist() == ["data-guidance/data_guidance.md", "data/a.csv", "data/b.csv"]
        assert {i.date_time for i in archive.infolist()} == {bundle.FIXED_TIME}
        assert archive.read("data/b.csv") == b"2\n"


def test_guidance_documents_every_file_column_definition_and_symbol() -> None:
    config = DisclosureConfig()
    text = guidance.data_guidance(DATASETS, config, {"B1": 1304})
    assert text == guidance.data_guidance(DATASETS, config, {"B1": 1304})
    for ds in DATASETS.values():
        assert f"`{ds.stem}.csv`" in text and f"`{ds.stem}.meta.csv`" in text
        for ind in ds.indicators:
            assert f"| `{ind.name}` |" in text
            assert ind.definition.split(".")[0].replace("|", "\\|") in text
        for note in ds.footnotes:
            assert note in text
    for symbol in (config.suppressed, config.not_available, config.not_applicable):
        assert f"- `{symbol}`:" in text
    assert "- Rows: 1,304" in text
    # public guidance: how a column list was reconstructed is in the developer notes, not here
    assert "inferred" not in text and "Column list" not in text and "README" not in text
    assert "E23B1" not in text and "E25C3" not in text
    assert "`Referrals` = `Individual` + `Schools`" in text  # C5's additive structure
    # a figure in several files says where else it is, by column name (never an internal statistic id)
    b1 = text.split("### B1:")[1].split("\n### ")[0]
    b1_at31 = next(line for line in b1.splitlines() if line.startswith("| `At31_episodes` |"))
    assert "Published identically in A3 `At31_episodes`, A4 `CIN_At31`" in b1_at31 and "B1 `" not in b1_at31
    assert "Statistic `" not in text
