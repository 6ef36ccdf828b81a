"""``protect_year`` formatting, symbols, report and contract errors, on small hand-built data sets."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from cin_assets.datasets.description import ColumnSum, DataSet, Indicator
from cin_assets.disclosure import DisclosureConfig, DisclosureError, check_year, protect_year
from cin_assets.disclosure.protect import REPORT_SCHEMA
from cin_assets_tests.disclosure.factories import la_frame, local_authorities

LAS = ["805", "806", "807"]


def _ds(inds, sums=()) -> DataSet:
    return DataSet(
        code="T",
        stem="t",
        title="t",
        description="t",
        geography="la",
        first_year=2013,
        last_year=2020,
        indicators=tuple(inds),
        column_sums=sums,
    )


def _frame(ds, rows: dict[str, dict], **kw) -> pl.DataFrame:
    counts = pl.DataFrame([{"old_la_code": la, **v} for la, v in rows.items()])
    return la_frame(ds, counts, las=local_authorities(2020, list(rows)), **kw)


def _col(published: pl.DataFrame, column: str) -> list[str]:
    return published.get_column(column).to_list()


def test_counts_round_at_england_and_regions_only() -> None:
    ds = _ds([Indicator("n", "n", "count", "t")])
    frame = _frame(ds, {"805": {"n": 7}, "806": {"n": 8}, "807": {"n": 100}})  # total 115
    out = protect_year({"T": frame}, {"T": ds}).published["T"]
    assert _col(out, "geographic_level") == [
        "National",
        "Regional",
        "Local authority",
        "Local authority",
        "Local authority",
    ]
    assert _col(out, "n") == ["120", "120", "7", "8", "100"]


def test_percentages_round_half_up_from_exact_counts() -> None:
    inds = [
        Indicator("d", "d", "count", "t"),
        Indicator("n", "n", "count", "t"),
        Indicator("p", "p", "percent", "t", numerator="n", denominator="d"),
    ]
    ds = _ds(inds)
    # 15/120 = 12.5%; 21/1200 = 1.75% -> 1.8; 1000/8000 = 12.5%
    frame = _frame(
        ds, {"805": {"d": 120, "n": 15}, "806": {"d": 1200, "n": 21}, "807": {"d": 8000, "n": 1000}}
    )
    out = protect_year({"T": frame}, {"T": ds}).published["T"]
    assert _col(out, "p")[2:] == ["12.5", "1.8", "12.5"]
    assert all(v.count(".") == 1 and len(v.split(".")[1]) == 1 for v in _col(out, "p"))


def test_a_data_set_with_no_rows_is_published_empty_beside_the_others() -> None:
    """A year where one file has no rows (no LA returned that statistic) protects the rest as usual."""
    inds = [
        Indicator("d", "d", "count", "t"),
        Indicator("n", "n", "count", "t"),
        Indicator("p", "p", "percent", "t", numerator="n", denominator="d"),
    ]
    ds = _ds(inds)
    empty_ds = replace(ds, code="E", stem="e")
    frame = _frame(ds, {"805": {"d": 120, "n": 3}, "806": {"d": 1200, "n": 21}, "807": {"d": 800, "n": 100}})
    protected = protect_year({"T": frame, "E": frame.clear()}, {"T": ds, "E": empty_ds})
    assert protected.published["E"].is_empty()
    assert protected.published["E"].columns == protected.published["T"].columns
    assert _col(protected.published["T"], "n")[2] == "c"
    outcomes = check_year(protected.published, {"T": ds, "E": empty_ds})
    assert all(o.passed for o in outcomes), [o.name for o in outcomes if not o.passed]


def test_rates_days_and_populations() -> None:
    inds = [
        Indicator("n", "n", "count", "t"),
        Indicator("n_rate", "rate", "rate", "t", numerator="n"),
        Indicator("median_days", "days", "days", "t", of="n"),
        Indicator("population", "population", "population", "t"),
    ]
    ds = _ds(inds)
    pops = {"E92000001": 60_000, "E12000001": 60_000, "805": 40_000, "806": 16_000, "807": 4_000}
    days = pl.DataFrame(
        {
            "_geo": ["E92000001", "E12000001", "805", "806", "807"],
            "median_days": [12.5, 12.5, 7.5, 3.49, 40.0],
        }
    )
    frame = _frame(ds, {"805": {"n": 250}, "806": {"n": 3}, "807": {"n": 60}}, populations=pops, derived=days)
    result = protect_year({"T": frame}, {"T": ds})
    out = result.published["T"]
    # 806's 3 needs a partner (the regional rate pins the region to 313): 807 goes too, with its rate
    assert _col(out, "n") == ["310", "310", "250", "c", "c"]
    assert _col(out, "n_rate") == ["52.2", "52.2", "62.5", "c", "c"]
    assert _col(out, "median_days") == ["13", "13", "8", "c", "c"]
    assert _col(out, "population") == ["60000", "60000", "40000", "16000", "4000"]  # never suppressed
    kinds = result.report.filter(pl.col("geography_code") == "806").select("column", "kind").rows()
    assert (
        ("n", "primary") in kinds and ("n_rate", "derived") in kinds and ("median_days", "derived") in kinds
    )


def test_not_applicable_and_not_available() -> None:
    only_las = pl.col("geographic_level") == "Local authority"
    inds = [Indicator("n", "n", "count", "t"), Indicator("m", "m", "count", "t", applies=only_las)]
    ds = _ds(inds)
    frame = _frame(ds, {"805": {"n": 10, "m": 12}, "806": {"n": None, "m": 20}, "807": {"n": 30, "m": 14}})
    out = protect_year({"T": frame}, {"T": ds}).published["T"]
    assert _col(out, "n") == ["40", "40", "10", ":", "30"]
    assert _col(out, "m") == ["z", "z", "12", "20", "14"]
    x = protect_year({"T": frame}, {"T": ds}, DisclosureConfig(not_available="x")).published["T"]
    assert _col(x, "n")[3] == "x"


def test_report_columns_and_notes() -> None:
    ds = _ds(
        [
            Indicator("t", "t", "count", "t"),
            Indicator("a", "a", "count", "t"),
            Indicator("b", "b", "count", "t"),
        ],
        (ColumnSum("t", ("a", "b")),),
    )
    frame = _frame(
        ds,
        {
            "805": {"t": 43, "a": 3, "b": 40},
            "806": {"t": 70, "a": 30, "b": 40},
            "807": {"t": 90, "a": 45, "b": 45},
        },
    )
    result = protect_year({"T": frame}, {"T": ds})
    report = result.report
    assert report.schema == pl.Schema(REPORT_SCHEMA)
    assert (report.get_column("note") == "").all()
    primary = report.filter(pl.col("kind") == "primary").row(0, named=True)
    assert (primary["geography_code"], primary["column"], primary["protects"]) == ("805", "a", "")
    assert primary["geography_name"] == "Hartlepool (805)"
    secondary = report.filter(pl.col("kind") == "secondary")
    assert secondary.height >= 1
    assert secondary.get_column("protects").str.contains("T a for Hartlepool").all()
    assert result.stats["primary"] == 1 and result.stats["secondary"] == secondary.height


def test_contract_errors_are_explicit() -> None:
    ds = _ds(
        [
            Indicator("t", "t", "count", "t"),
            Indicator("a", "a", "count", "t"),
            Indicator("b", "b", "count", "t"),
        ],
        (ColumnSum("t", ("a", "b")),),
    )
    broken = _frame(ds, {"805": {"t": 44, "a": 3, "b": 40}, "806": {"t": 70, "a": 30, "b": 40}})
    with pytest.raises(DisclosureError, match=r"do not hold.*T t = a \+ b for Hartlepool"):
        protect_year({"T": broken}, {"T": ds})
    fine = _frame(ds, {"805": {"t": 43, "a": 3, "b": 40}, "806": {"t": 70, "a": 30, "b": 40}})
    with pytest.raises(DisclosureError, match="lacks columns"):
        protect_year({"T": fine.drop("b")}, {"T": ds})
    with pytest.raises(DisclosureError, match="no description"):
        protect_year({"U": fine}, {"T": ds})
    twin = DataSet(**{**ds.__dict__, "code": "V", "stem": "v"})
    other = fine.with_columns(
        pl.when(pl.col("old_la_code") == "806").then(71).otherwise(pl.col("t")).alias("t")
    )
    with pytest.raises(DisclosureError, match="linked cells differ"):
        protect_year({"T": fine, "V": other}, {"T": ds, "V": twin})


def test_percent_must_match_its_numerator_and_denominator() -> None:
    inds = [
        Indicator("d", "d", "count", "t"),
        Indicator("n", "n", "count", "t"),
        Indicator("p", "p", "percent", "t", numerator="n", denominator="d"),
    ]
    ds = _ds(inds)
    frame = _frame(ds, {"805": {"d": 120, "n": 15}, "806": {"d": 100, "n": 50}})
    frame = frame.with_columns(
        pl.when(pl.col("old_la_code") == "806").then(40.0).otherwise(pl.col("p")).alias("p")
    )
    with pytest.raises(DisclosureError, match="p is not 100 \\* n / d"):
        protect_year({"T": frame}, {"T": ds})
