"""``check_year`` catches a corrupted publication and names the data set, row and column."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from cin_assets.datasets.description import Filter, Indicator
from cin_assets.disclosure import DisclosureConfig, check_year, schema_for


def _outcome(outcomes, name: str, dataset: str | None = None):
    return next(o for o in outcomes if o.name == name and o.dataset == dataset)


def _where(failures: pl.DataFrame) -> set[tuple[str, int, str]]:
    return set(failures.select("dataset", "row", "column").iter_rows())


def _set(frame: pl.DataFrame, row: int, column: str, value: str | None) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(value, dtype=pl.String))
        .otherwise(pl.col(column))
        .alias(column)
    )


def _check_one(small_release, code: str, frame: pl.DataFrame, config: DisclosureConfig | None = None):
    """check_year on one file (enough for the per-file rules; quicker than the whole year)."""
    datasets = {code: small_release.datasets[code]}
    return check_year({code: frame}, datasets, config or DisclosureConfig())


def _hidden(small_release, code: str, *, primary: bool) -> list[tuple[int, str]]:
    """(row, column) of suppressed LA counts of ``code`` that are primaries (or secondaries)."""
    ds = small_release.datasets[code]
    truth, shown = small_release.frames[code], small_release.protected.published[code]
    out = []
    for ind in ds.counts():
        hidden = (shown.get_column(ind.name) == "c") & (
            truth.get_column("geographic_level") == "Local authority"
        )
        small = truth.get_column(ind.name).is_between(1, 5)
        rows = (hidden & (small if primary else ~small)).arg_true().to_list()
        out += [(r, ind.name) for r in rows]
    return sorted(out)


def test_an_unsuppressed_primary_fails_the_schema_where_it_is(small_release) -> None:
    row, col = _hidden(small_release, "D5", primary=True)[0]
    value = str(small_release.frames["D5"].get_column(col)[row])
    published = dict(small_release.protected.published)
    published["D5"] = _set(published["D5"], row, col, value)
    outcomes = check_year(published, small_release.datasets)
    schema = _outcome(outcomes, "schema", "D5")
    assert not schema.passed
    assert ("D5", row, col) in _where(schema.failures.filter(pl.col("rule") == "primary_threshold"))
    assert (
        "1 and the threshold"
        in schema.failures.filter(pl.col("rule") == "primary_threshold").get_column("message")[0]
    )
    assert all(o.passed for o in outcomes if o.name == "schema" and o.dataset != "D5")


def test_unsuppressed_secondaries_expose_the_primaries(small_release) -> None:
    """Publish D2's secondaries (and their percentages): the attack must pin the primaries they hid."""
    code = "D2"
    ds = small_release.datasets[code]
    published = dict(small_release.protected.published)
    frame = published[code]
    truth = small_release.frames[code]
    secondaries = _hidden(small_release, code, primary=False)
    assert secondaries
    for row, col in secondaries:
        frame = _set(frame, row, col, str(truth.get_column(col)[row]))
    for row in sorted({r for r, _ in secondaries}):  # then the percentages both of whose counts are shown
        for ind in ds.indicators:
            if ind.unit == "percent" and all(frame.get_column(c)[row] != "c" for c in ind.depends_on):
                tenths = int(
                    1000 * truth.get_column(ind.numerator)[row] / truth.get_column(ind.denominator)[row] + 0.5
                )
                frame = _set(frame, row, ind.name, f"{tenths // 10}.{tenths % 10}")
    published[code] = frame
    outcomes = check_year(published, small_release.datasets)
    exposed = _where(_outcome(outcomes, "lp_audit").failures) | _where(
        _outcome(outcomes, "additive_groups").failures
    )
    primaries = {(code, r, c) for r, c in _hidden(small_release, code, primary=True)}
    assert exposed & primaries
    # a pinned cell is named in every file it appears in: CPP_start is shared by D1, D2 and D3
    assert {d for d, _, _ in exposed} <= {"D1", "D2", "D3"}
    assert _outcome(outcomes, "schema", code).passed, _outcome(outcomes, "schema", code).failures.rows()[:5]


def test_a_broken_rounding_names_the_regional_cell(small_release) -> None:
    frame = small_release.protected.published["B1"]
    row = frame.with_row_index("r").filter(pl.col("geographic_level") == "Regional").get_column("r")[0]
    schema = _outcome(
        _check_one(small_release, "B1", _set(frame, row, "At31_episodes", "25013")), "schema", "B1"
    )
    assert ("B1", row, "At31_episodes") in _where(schema.failures.filter(pl.col("rule") == "rounding"))


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "format"),
        (None, "schema"),
        ("~", "format"),
        ("12.34", "format"),
        ("1,234", "format"),
        ("NA", "format"),
    ],
)
def test_bad_indicator_values(small_release, value, rule) -> None:
    frame = _set(small_release.protected.published["C1"], 20, "Referrals", value)
    failures = _outcome(_check_one(small_release, "C1", frame), "schema", "C1").failures
    hit = failures.filter((pl.col("row") == 20) & (pl.col("column") == "Referrals"))
    assert hit.height >= 1
    assert rule in hit.get_column("rule").to_list() or (
        rule == "schema" and "not_nullable" in hit.get_column("rule")[0]
    )


def test_a_percentage_of_a_suppressed_count_must_be_suppressed(small_release) -> None:
    row, col = _hidden(small_release, "D5", primary=True)[0]
    frame = _set(small_release.protected.published["D5"], row, f"{col}_percent", "1.2")
    failures = _outcome(_check_one(small_release, "D5", frame), "schema", "D5").failures
    assert ("D5", row, f"{col}_percent") in _where(failures.filter(pl.col("rule") == "derived_suppression"))


def test_geography_lookups_and_duplicates(small_release) -> None:
    frame = small_release.protected.published["D3"]
    la_row = (
        frame.with_row_index("r").filter(pl.col("geographic_level") == "Local authority").get_column("r")[0]
    )
    frame = _set(frame, la_row, "la_name", "Gateshed")
    frame = _set(frame, 0, "region_code", "E12000001")  # a region code on the England row
    frame = pl.concat([frame, frame.slice(5, 1)])
    failures = _outcome(_check_one(small_release, "D3", frame), "schema", "D3").failures
    assert ("D3", la_row, "la_name") in _where(failures.filter(pl.col("rule") == "la_combination"))
    assert ("D3", 0, "region_code") in _where(failures.filter(pl.col("rule") == "region_combination"))
    dupes = failures.filter(pl.col("rule") == "duplicate_row").get_column("row").to_list()
    assert set(dupes) == {5, frame.height - 1}


def test_columns_must_be_the_descriptions_in_order(small_release) -> None:
    frame = small_release.protected.published["D6"]
    shuffled = frame.select(frame.columns[1], frame.columns[0], *frame.columns[2:-1])
    failures = _outcome(_check_one(small_release, "D6", shuffled), "schema", "D6").failures
    assert set(failures.get_column("rule")) == {"column_ordered", "column_in_dataframe"}
    assert frame.columns[-1] in " ".join(failures.get_column("message").to_list())


def test_linked_cells_must_agree_across_files(small_release) -> None:
    published = dict(small_release.protected.published)
    frame = published["B3"]
    la_row = (
        frame.with_row_index("r").filter(pl.col("geographic_level") == "Local authority").get_column("r")[3]
    )
    true = small_release.frames["B3"].get_column("At31_episodes")[la_row]
    published["B3"] = _set(frame, la_row, "At31_episodes", str(true + 1))
    outcomes = check_year(published, small_release.datasets)
    linked = _outcome(outcomes, "linked_cells").failures
    assert ("B3", la_row, "At31_episodes") in _where(linked)
    assert {"B1", "B2", "B3", "B4"} <= set(linked.get_column("dataset"))
    assert "published differently" in linked.get_column("message")[0]


def test_not_available_symbol_follows_the_config(small_release) -> None:
    config = DisclosureConfig(not_available="x")
    b1 = _outcome(
        _check_one(small_release, "B1", small_release.protected.published["B1"], config), "schema", "B1"
    ).failures
    assert not b1.is_empty()
    assert set(b1.get_column("rule")) == {"format"}
    assert "':'" in b1.get_column("message")[0]


def test_screener_naming_rules(small_release) -> None:
    ds = small_release.datasets["D3"]
    renamed = dataclasses.replace(
        ds,
        stem="d3 file",
        indicators=(*ds.indicators, Indicator("female_count", "Girls", "count", "t")),
        filters=(Filter("primary_need", "Need", ("N1", "Total"), total="Total"),),
    )
    frame = small_release.protected.published["D3"]
    outcome = _outcome(check_year({"D3": frame}, {"D3": renamed}), "ees_names", "D3")
    rules = dict(
        zip(
            outcome.failures.get_column("column").fill_null(""),
            outcome.failures.get_column("rule"),
            strict=True,
        )
    )
    assert rules["female_count"] == "col_ind_smushed"
    assert rules["primary_need"] == "harmonised_variables"
    assert rules[""] == "filename_special"
    assert outcome.failures.get_column("row").null_count() == outcome.failures.height


def test_names_dfe_published_are_kept_as_warnings(small_release) -> None:
    ds = small_release.datasets["D3"]
    smushed = Indicator("female_count", "Girls", "count", "t")
    frame = small_release.protected.published["D3"]
    legacy = dataclasses.replace(ds, indicators=(*ds.indicators, smushed), legacy_names=("female_count",))
    outcome = _outcome(check_year({"D3": frame}, {"D3": legacy}), "ees_names", "D3")
    assert outcome.passed
    assert "female_count" in outcome.metadata["warning_text"]
    assert "kept: DfE published this name" in outcome.metadata["warning_text"]
    plain = dataclasses.replace(ds, indicators=(*ds.indicators, smushed))
    assert not _outcome(check_year({"D3": frame}, {"D3": plain}), "ees_names", "D3").passed


def test_schema_for_is_a_pandera_schema(small_release) -> None:
    import pandera.polars as pa

    schema = schema_for(small_release.datasets["B1"], DisclosureConfig())
    assert isinstance(schema, pa.DataFrameSchema)
    schema.validate(small_release.protected.published["B1"])
    broken = _set(small_release.protected.published["B1"], 30, "At31_episodes", "3")
    with pytest.raises(pa.errors.SchemaError):
        schema.validate(broken)
