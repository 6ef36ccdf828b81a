"""The screener port reproduces the real ``eesyscreener`` 0.3.1 verdicts, check for check, on the 28 pairs
it screened (``fixtures/eesyscreener``: files, and the verdicts of every check called on its own)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from cin_assets.publish import screener

FIXTURE = Path(__file__).with_name("fixtures") / "eesyscreener"
FILES = FIXTURE / "files"


def _expected() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    with (FIXTURE / "results_forced.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["file"], []).append((row["check"], row["result"]))
    return out


EXPECTED = _expected()


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_port_matches_the_real_screener(stem: str) -> None:
    results = screener.screen_files(FILES / f"{stem}.csv", FILES / f"{stem}.meta.csv")
    got = Counter((r.check, r.result) for r in results)
    assert got == Counter(EXPECTED[stem]), {
        check: (
            dict(Counter(v for c, v in EXPECTED[stem] if c == check)),
            [r.result for r in results if r.check == check],
        )
        for check in {c for c, _ in EXPECTED[stem]} | {r.check for r in results}
        if Counter(v for c, v in EXPECTED[stem] if c == check)
        != Counter(r.result for r in results if r.check == check)
    }


def test_every_screener_check_is_ported() -> None:
    fixture_checks = {c for rows in EXPECTED.values() for c, _ in rows}
    assert fixture_checks == set(screener.CHECK_NAMES)


def _pair(data: dict[str, list[str]], meta_rows: list[dict[str, str]]) -> list[screener.Result]:
    meta = pl.DataFrame(meta_rows, schema=dict.fromkeys(screener.REQ_META_COLS, pl.String))
    return screener.screen_frames(pl.DataFrame(data), meta)


def _row(name: str, col_type: str, **extra: str) -> dict[str, str]:
    row = dict.fromkeys(screener.REQ_META_COLS, "")
    row.update(
        col_name=name, col_type=col_type, label=name, indicator_dp="0" if col_type == "Indicator" else ""
    )
    row.update(extra)
    return row


def _verdicts(results: list[screener.Result]) -> dict[str, str]:
    return {r.check: r.result for r in results}


BASE = {
    "time_period": ["2020", "2020"],
    "time_identifier": ["Reporting year"] * 2,
    "geographic_level": ["National"] * 2,
    "country_code": ["E92000001"] * 2,
    "country_name": ["England"] * 2,
}


def test_checks_fail_what_the_screener_fails() -> None:
    """Each check can fail: legacy symbols, smushed names, missing Total, bad geography, duplicates."""
    data = {**BASE, "sex": ["Female", "Male"], "Female_count": [":", "3"]}
    meta = [_row("sex", "Filter"), _row("Female_count", "Indicator")]
    got = _verdicts(_pair(data, meta))
    assert got["ind_invalid_entry"] == "FAIL"
    assert got["col_ind_smushed"] == "FAIL"
    assert got["filter_defaults"] == "WARNING"
    assert got["col_snake_case"] == "WARNING" and got["col_var_start"] == "WARNING"
    assert got["general_dupes"] == "PASS"

    data = {**BASE, "sex": ["Total", "Total"], "children_count": ["x", "3"]}
    data["country_name"] = ["England", "Englnd"]
    got = _verdicts(_pair(data, [_row("sex", "Filter"), _row("children_count", "Indicator")]))
    assert got["geog_country_combos"] == "FAIL"
    assert got["filter_not_singular"] == "FAIL"
    assert got["ind_invalid_entry"] == "PASS" and got["filter_defaults"] == "PASS"

    data = {**BASE, "sex": ["Total", "Total"], "children_count": ["1", "3"]}
    got = _verdicts(_pair(data, [_row("children_count", "Indicator")]))
    assert got["general_dupes"] == "FAIL"


def test_filter_default_declared_in_metadata_passes() -> None:
    data = {**BASE, "measure": ["Referrals", "Assessments"], "number": ["1", "3"]}
    meta = [
        _row("measure", "Filter", filter_default="Referrals"),
        _row("number", "Indicator", filter_default=""),
    ]
    frame = pl.DataFrame(meta)
    results = screener.screen_frames(pl.DataFrame(data), frame)
    assert _verdicts(results)["filter_defaults"] == "PASS"
    assert _verdicts(results)["col_invalid_meta"] == "PASS"


def _b1() -> tuple[pl.DataFrame, pl.DataFrame]:
    stem = "b1_children_in_need_2013_to_2020"
    return screener.read_pair((FILES / f"{stem}.csv").read_bytes(), (FILES / f"{stem}.meta.csv").read_bytes())


LA = pl.col("geographic_level") == "Local authority"
MUTATIONS = {
    # check name -> (expected verdict, change to the data, change to the metadata)
    "geog_la_combos": (
        "FAIL",
        lambda d: d.with_columns(pl.when(LA).then(pl.lit("Darlingtn")).otherwise("la_name").alias("la_name")),
        None,
    ),
    "geog_region_combos": (
        "FAIL",
        lambda d: d.with_columns(pl.col("region_name").str.replace("North East", "North-East")),
        None,
    ),
    "geog_overcompleted_cols": ("FAIL", lambda d: d.with_columns(pl.lit("841").alias("old_la_code")), None),
    "geog_level_completed": (
        "FAIL",
        lambda d: d.with_columns(pl.when(LA).then(None).otherwise("la_name").alias("la_name")),
        None,
    ),
    "geog_level": (
        "FAIL",
        lambda d: d.with_columns(pl.col("geographic_level").str.replace("Regional", "Region")),
        None,
    ),
    "time_period_num": (
        "FAIL",
        lambda d: d.with_columns(pl.col("time_period").str.replace("2020", "20/20")),
        None,
    ),
    "time_period_six": (
        "FAIL",
        lambda d: d.with_columns(pl.col("time_period").str.replace("2020", "201921")),
        None,
    ),
    "time_id_valid": ("FAIL", lambda d: d.with_columns(pl.lit("Year").alias("time_identifier")), None),
    "general_dupes": ("FAIL", lambda d: pl.concat([d, d.head(1)]), None),
    "general_null": ("FAIL", lambda d: d.with_columns(pl.lit("NA").alias("At31_episodes")), None),
    "filter_ob_total": (
        "FAIL",
        lambda d: d.with_columns(pl.when(LA).then(pl.lit("Total")).otherwise("la_name").alias("la_name")),
        None,
    ),
    "col_names_spaces": ("FAIL", lambda d: d.rename({"Ended_child": "Ended child"}), None),
    "meta_dupe_label": ("FAIL", None, lambda m: m.with_columns(pl.lit("Same").alias("label"))),
    "meta_label": ("FAIL", None, lambda m: m.with_columns(pl.lit("").alias("label"))),
    "meta_ind_unit_validation": (
        "FAIL",
        None,
        lambda m: m.with_columns(pl.lit("percent").alias("indicator_unit")),
    ),
    "meta_ind_dp_values": ("FAIL", None, lambda m: m.with_columns(pl.lit("1.5").alias("indicator_dp"))),
    "meta_ind_dp_set": ("WARNING", None, lambda m: m.with_columns(pl.lit("").alias("indicator_dp"))),
    "col_invalid_meta": ("FAIL", None, lambda m: m.with_columns(pl.lit("").alias("notes"))),
    "col_to_rows": ("FAIL", None, lambda m: pl.concat([m] * 3)),
    "api_char_col_label": ("WARNING", None, lambda m: m.with_columns(pl.lit("x" * 101).alias("label"))),
    "meta_ob_unit": ("FAIL", None, lambda m: m.with_columns(pl.lit("la_name").alias("col_name")).head(1)),
}


@pytest.mark.parametrize("check", sorted(MUTATIONS))
def test_each_check_catches_what_it_is_for(check: str) -> None:
    """B1 passes every check; one change each makes the named check give the screener's verdict."""
    data, meta = _b1()
    assert {r.check: r.result for r in screener.screen_frames(data, meta)}[check] == "PASS"
    verdict, change_data, change_meta = MUTATIONS[check]
    data = change_data(data) if change_data else data
    meta = change_meta(meta) if change_meta else meta
    assert {r.check: r.result for r in screener.screen_frames(data, meta)}[check] == verdict
