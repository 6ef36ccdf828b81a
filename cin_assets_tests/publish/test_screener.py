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
