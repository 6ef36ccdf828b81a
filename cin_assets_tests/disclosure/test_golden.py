"""Golden cases of the disclosure spec (section 8.3 and 8.5), on small hand-built data sets."""

from __future__ import annotations

import polars as pl
import pytest

from cin_assets.datasets.description import ColumnSum, DataSet, Indicator
from cin_assets.disclosure import DisclosureConfig, check_year, disclosure_config, protect_year
from cin_assets.disclosure.audit import build_system
from cin_assets_tests.disclosure.factories import (
    frame_of,
    la_dataset,
    la_frame,
    local_authorities,
    publish_naively,
    row_of,
)

# the spec's golden cases ask for the strict rule's guarantee: no primary provably below 6
STRICT = disclosure_config("strict")

NE = ["805", "806", "807", "808", "840", "841"]  # North East LAs
HARTLEPOOL, MIDDLESBROUGH, REDCAR = "805", "806", "807"


def cell(published: pl.DataFrame, la: str, column: str) -> str:
    return published.filter(pl.col("old_la_code") == la).get_column(column).item()


def region_cell(published: pl.DataFrame, region: str, column: str) -> str:
    row = published.filter((pl.col("geographic_level") == "Regional") & (pl.col("region_code") == region))
    return row.get_column(column).item()


def failures(outcomes, name: str) -> pl.DataFrame:
    return next(o for o in outcomes if o.name == name).failures


def assert_all_pass(outcomes) -> None:
    bad = {(o.name, o.dataset): o.failures.head(5).rows() for o in outcomes if not o.passed}
    assert not bad, bad


# ------------------------------------------------------------------------------- spec 8.3, LP audit
def test_classic_three_by_three_feasibility_intervals() -> None:
    """Rows I-III x columns A-C with all margins, published exactly (one LA, sums within the file)."""
    parts = ["A", "B", "C"]
    table = {"I": [20, 50, 10], "II": [8, 19, 22], "III": [17, 32, 12]}
    ds = _grid_dataset()
    frame = _grid_frame(ds, table)
    hidden = {("II", "A"), ("II", "C"), ("III", "A"), ("III", "C")}
    published = _grid_published(ds, frame, hidden, parts)
    intervals = _exact_intervals(published, ds)
    # attacker: a + c = 30, d + f = 29, a + d = 25, c + f = 34, every c >= 1 -> a in [1, 24]
    assert intervals[("II", "A")] == (1, 24)
    assert intervals[("II", "C")] == (6, 29)
    assert intervals[("III", "A")] == (1, 24)
    assert intervals[("III", "C")] == (5, 28)
    assert_all_pass(check_year({"G": published}, {"G": ds}))


def test_classic_three_by_three_single_suppression_is_exact() -> None:
    ds = _grid_dataset()
    frame = _grid_frame(ds, {"I": [20, 50, 10], "II": [8, 19, 22], "III": [17, 32, 12]})
    published = _grid_published(ds, frame, {("II", "C")}, ["A", "B", "C"])
    assert _exact_intervals(published, ds)[("II", "C")] == (22, 22)
    outcome = failures(check_year({"G": published}, {"G": ds}), "lp_audit")
    lone = failures(check_year({"G": published}, {"G": ds}), "additive_groups")
    row = published.with_row_index("r").filter(
        pl.col("part") == "II", pl.col("geographic_level") == "Local authority"
    )
    where = (row.get_column("r").item(), "C")
    assert where in set(zip(outcome.get_column("row"), outcome.get_column("column"), strict=True))
    assert "exact_disclosure" in outcome.get_column("rule").to_list()
    assert where in set(zip(lone.get_column("row"), lone.get_column("column"), strict=True))


def _grid_dataset() -> DataSet:
    from cin_assets.datasets.description import Filter, RowSum

    part = Filter("part", "Part", ("I", "II", "III", "Total"), total="Total")
    return DataSet(
        code="G",
        stem="g",
        title="grid",
        description="3x3",
        geography="la",
        first_year=2013,
        last_year=2020,
        indicators=tuple(Indicator(c, c, "count", "t") for c in ("total", "A", "B", "C")),
        filters=(part,),
        column_sums=(ColumnSum("total", ("A", "B", "C")),),
        row_sums=(RowSum({"part": "Total"}, ({"part": "I"}, {"part": "II"}, {"part": "III"})),),
    )


def _grid_frame(ds: DataSet, table: dict[str, list[int]]) -> pl.DataFrame:
    rows = [{"old_la_code": HARTLEPOOL, "part": p, "A": a, "B": b, "C": c} for p, (a, b, c) in table.items()]
    totals = {k: sum(r[k] for r in rows) for k in "ABC"}
    rows.append({"old_la_code": HARTLEPOOL, "part": "Total", **totals})
    counts = pl.DataFrame(rows).with_columns(total=pl.col("A") + pl.col("B") + pl.col("C"))
    return la_frame(ds, counts, las=local_authorities(2020, [HARTLEPOOL]))


def _grid_published(ds, frame, hidden, parts) -> pl.DataFrame:
    """Publish with ``hidden`` suppressed at the LA; the England/regional copies of the single LA would
    otherwise give each cell away to within rounding, so they are suppressed there too."""
    la_rows = frame.with_row_index("r")
    marks = set()
    for part, col in hidden:
        for r in la_rows.filter(pl.col("part") == part).get_column("r").to_list():
            marks.add((r, col))
    return publish_naively(ds, frame, marks)


def _exact_intervals(published: pl.DataFrame, ds: DataSet) -> dict[tuple[str, str], tuple[int, int]]:
    from cin_assets.disclosure.audit import audit

    system = build_system({"G": published}, {"G": ds}, DisclosureConfig())
    result = audit(system, exact=True)
    occ = system.occurrences.join(result.intervals, on="cell")
    parts = published.with_row_index("row").select(pl.col("row").cast(pl.Int64), "part", "geographic_level")
    occ = occ.join(parts, on="row").filter(pl.col("geographic_level") == "Local authority")
    return {(r["part"], r["column"]): (round(r["lo"]), round(r["up"])) for r in occ.iter_rows(named=True)}


# -------------------------------------------------------------------------- spec 8.5, the suppressor
SUMS = (ColumnSum("total", ("a", "b", "c")),)


def _row(a: int, b: int, c: int) -> dict[str, int]:
    return {"total": a + b + c, "a": a, "b": b, "c": c}


def _ne_rows(special: dict[str, int]) -> dict[str, dict[str, int]]:
    rows = {la: _row(40 + 7 * i, 60 + 5 * i, 90 + 3 * i) for i, la in enumerate(NE)}
    rows[HARTLEPOOL] = special
    return rows


def test_lone_primary_in_a_row_gets_partners_and_passes_the_audit() -> None:
    ds = la_dataset("R", ["total", "a", "b", "c"], sums=SUMS)
    frame = frame_of(ds, _ne_rows(_row(3, 40, 57)))
    result = protect_year({"R": frame}, {"R": ds})
    pub = result.published["R"]
    row = [cell(pub, HARTLEPOOL, c) for c in ("total", "a", "b", "c")]
    assert row[1] == "c"
    assert row.count("c") >= 2
    secondaries = result.report.filter(pl.col("kind") == "secondary")
    assert secondaries.height >= 1
    assert all("protects" in p for p in secondaries.get_column("protects"))
    assert_all_pass(check_year(result.published, {"R": ds}))


def test_the_audit_never_passes_a_cell_whose_integer_bounds_had_not_settled(monkeypatch) -> None:
    """Integer reasoning stopped early leaves bounds wider than it could prove: the audit fails those
    cells (rule propagation_unsettled) rather than pass them on bounds it did not finish."""
    from functools import partial

    from cin_assets.disclosure import audit, lp

    ds = la_dataset("R", ["total", "a", "b", "c"], sums=SUMS)
    published = protect_year({"R": frame_of(ds, _ne_rows(_row(3, 40, 57)))}, {"R": ds}).published
    assert_all_pass(check_year(published, {"R": ds}))
    monkeypatch.setattr(audit, "propagate", partial(lp.propagate, rounds=1))
    stopped = failures(check_year(published, {"R": ds}), "lp_audit")
    assert stopped.height and set(stopped.get_column("rule")) == {"propagation_unsettled"}
    assert "not shown protected" in stopped.get_column("message")[0]


def test_two_primaries_summing_to_five_need_a_third_cell() -> None:
    ds = la_dataset("R", ["total", "a", "b", "c"], sums=SUMS)
    frame = frame_of(ds, _ne_rows(_row(2, 3, 25)))
    pub = protect_year({"R": frame}, {"R": ds}, STRICT).published["R"]
    row = [cell(pub, HARTLEPOOL, c) for c in ("total", "a", "b", "c")]
    assert row[1] == row[2] == "c"
    assert row.count("c") >= 3  # a and b alone would be known to sum to 5
    assert_all_pass(check_year({"R": pub}, {"R": ds}, STRICT))
    # and the pattern with only the two primaries is caught as group disclosure
    naive = publish_naively(ds, frame, {(row_of(frame, HARTLEPOOL), "a"), (row_of(frame, HARTLEPOOL), "b")})
    rules = set(failures(check_year({"R": naive}, {"R": ds}, STRICT), "additive_groups").get_column("rule"))
    assert "group_disclosure" in rules


def test_small_la_in_a_two_la_region_hides_the_other_la() -> None:
    """Spec 8.3: LAs 3 and 250, regional total 253 published as 250 -> the small LA is within 1..4."""
    ds = la_dataset("N", ["n"])
    frame = frame_of(ds, {HARTLEPOOL: {"n": 3}, MIDDLESBROUGH: {"n": 250}})
    naive = publish_naively(ds, frame, {(row_of(frame, HARTLEPOOL), "n")})
    assert region_cell(naive, "E12000001", "n") == "250"
    audit = failures(check_year({"N": naive}, {"N": ds}, STRICT), "lp_audit")
    assert audit.filter(pl.col("row") == row_of(frame, HARTLEPOOL)).get_column("rule").to_list() == [
        "protection_level"
    ]
    assert "[1.0, 4.0]" in audit.get_column("message").item()
    pub = protect_year({"N": frame}, {"N": ds}, STRICT).published["N"]
    assert cell(pub, HARTLEPOOL, "n") == cell(pub, MIDDLESBROUGH, "n") == "c"
    assert_all_pass(check_year({"N": pub}, {"N": ds}, STRICT))


def test_dfe_rule_lets_rounding_protect_a_lone_la_unless_it_pins_it() -> None:
    """DfE's rule (the default): LAs 3 and 250 (region 253, published 250) leave the small LA in 1..4,
    narrowed but not recovered, so the other LA is published as DfE would; LAs 1 and 253 (region 254,
    published 250) pin it at exactly 1, so the other LA is suppressed too."""
    ds = la_dataset("N", ["n"])
    narrowed = frame_of(ds, {HARTLEPOOL: {"n": 3}, MIDDLESBROUGH: {"n": 250}})
    result = protect_year({"N": narrowed}, {"N": ds})
    pub = result.published["N"]
    assert (cell(pub, HARTLEPOOL, "n"), cell(pub, MIDDLESBROUGH, "n")) == ("c", "250")
    outcomes = check_year(result.published, {"N": ds})
    assert_all_pass(outcomes)
    intervals = next(o for o in outcomes if o.name == "lp_audit").report
    assert intervals is not None and (intervals["lo"].min(), intervals["up"].max()) == (1.0, 4.0)
    # the same files fail the strict rule: the count is proven below 6
    assert "protection_level" in failures(check_year(result.published, {"N": ds}, STRICT), "lp_audit")["rule"]
    pinned = frame_of(ds, {HARTLEPOOL: {"n": 1}, MIDDLESBROUGH: {"n": 253}})
    naive = publish_naively(ds, pinned, {(row_of(pinned, HARTLEPOOL), "n")})
    assert "exact_disclosure" in failures(check_year({"N": naive}, {"N": ds}), "lp_audit")["rule"]
    pub = protect_year({"N": pinned}, {"N": ds}).published["N"]
    assert cell(pub, HARTLEPOOL, "n") == cell(pub, MIDDLESBROUGH, "n") == "c"
    assert_all_pass(check_year({"N": pub}, {"N": ds}))


def test_dfe_rule_lets_two_primaries_hide_each_other_unless_they_are_both_1() -> None:
    """Two primaries of a row whose total is published: 2 and 3 leave each in 1..4, enough for DfE's rule;
    1 and 1 (hidden total 2) pin both, so a third cell is suppressed."""
    ds = la_dataset("R", ["total", "a", "b", "c"], sums=SUMS)
    two_three = frame_of(ds, _ne_rows(_row(2, 3, 25)))
    pub = protect_year({"R": two_three}, {"R": ds}).published["R"]
    assert [cell(pub, HARTLEPOOL, c) for c in ("total", "a", "b", "c")] == ["30", "c", "c", "25"]
    assert_all_pass(check_year({"R": pub}, {"R": ds}))
    ones = frame_of(ds, _ne_rows(_row(1, 1, 25)))
    naive = publish_naively(ds, ones, {(row_of(ones, HARTLEPOOL), "a"), (row_of(ones, HARTLEPOOL), "b")})
    assert "group_disclosure" in failures(check_year({"R": naive}, {"R": ds}), "additive_groups")["rule"]
    pub = protect_year({"R": ones}, {"R": ds}).published["R"]
    assert [cell(pub, HARTLEPOOL, c) for c in ("total", "a", "b", "c")].count("c") >= 3
    assert_all_pass(check_year({"R": pub}, {"R": ds}))


def test_rounding_slack_can_protect_a_lone_primary() -> None:
    """Spec 8.3: LAs 7, 3 and 250 (total 260): the small LA can be anything in 1..7, so it needs no
    secondary across the region."""
    ds = la_dataset("N", ["n"])
    frame = frame_of(ds, {HARTLEPOOL: {"n": 3}, MIDDLESBROUGH: {"n": 250}, REDCAR: {"n": 7}})
    result = protect_year({"N": frame}, {"N": ds})
    assert result.report.get_column("kind").to_list() == ["primary"]
    assert_all_pass(check_year(result.published, {"N": ds}))


def test_london_is_inner_plus_outer_london_for_the_attacker() -> None:
    """Inner London alone (rounded) leaves the small borough in 1..7, but London = Inner + Outer London
    with Outer London's borough published exactly pins it to at most 3."""
    ds = la_dataset("L", ["n"])
    camden, islington, greenwich = "202", "206", "203"
    frame = frame_of(ds, {camden: {"n": 3}, islington: {"n": 997}, greenwich: {"n": 2004}})
    naive = publish_naively(ds, frame, {(row_of(frame, camden), "n")})
    audit = failures(check_year({"L": naive}, {"L": ds}, STRICT), "lp_audit")
    assert audit.filter(pl.col("row") == row_of(frame, camden)).get_column("rule").to_list() == [
        "protection_level"
    ]
    assert failures(check_year({"L": naive}, {"L": ds}, STRICT), "additive_groups").is_empty()
    result = protect_year({"L": frame}, {"L": ds}, STRICT)
    assert cell(result.published["L"], camden, "n") == "c"
    assert result.report.filter(pl.col("kind") == "secondary").height >= 1
    assert_all_pass(check_year(result.published, {"L": ds}, STRICT))


def test_linked_files_are_protected_together() -> None:
    """An age table and a sex table share the LA total: protecting each file alone leaves the total
    published in one and suppressed in the other, which gives the age split away."""
    age = la_dataset("AGE", ["total", "young", "old"], sums=(ColumnSum("total", ("young", "old")),))
    sex = la_dataset("SEX", ["total", "girls", "boys"], sums=(ColumnSum("total", ("girls", "boys")),))
    others = {la: {"total": 100 + i, "young": 40 + i, "old": 60} for i, la in enumerate(NE[1:])}
    age_rows = {HARTLEPOOL: {"total": 6, "young": 3, "old": 3}, **others}
    sex_rows = {
        HARTLEPOOL: {"total": 6, "girls": 6, "boys": 0},
        **{la: {"total": v["total"], "girls": 50, "boys": v["total"] - 50} for la, v in others.items()},
    }
    frames = {"AGE": frame_of(age, age_rows), "SEX": frame_of(sex, sex_rows)}
    datasets = {"AGE": age, "SEX": sex}
    together = protect_year(frames, datasets, STRICT)
    assert cell(together.published["AGE"], HARTLEPOOL, "total") == "c"
    assert cell(together.published["SEX"], HARTLEPOOL, "total") == "c"
    assert cell(together.published["SEX"], HARTLEPOOL, "girls") == "c"
    assert cell(together.published["SEX"], HARTLEPOOL, "boys") == "0"
    assert_all_pass(check_year(together.published, datasets, STRICT))
    apart = {
        code: protect_year({code: frames[code]}, {code: datasets[code]}, STRICT).published[code]
        for code in frames
    }
    outcomes = check_year(apart, datasets, STRICT)
    linked = failures(outcomes, "linked_cells")
    assert set(linked.get_column("dataset")) == {"AGE", "SEX"}
    assert set(linked.get_column("column")) == {"total"}
    exposed = failures(outcomes, "lp_audit")
    assert {"young", "old"} <= set(exposed.filter(pl.col("dataset") == "AGE").get_column("column"))


def test_zeros_are_published_and_never_secondary() -> None:
    ds = la_dataset("R", ["total", "a", "b", "c"], sums=SUMS)
    frame = frame_of(ds, _ne_rows(_row(3, 0, 17)))
    result = protect_year({"R": frame}, {"R": ds})
    pub = result.published["R"]
    assert cell(pub, HARTLEPOOL, "b") == "0"
    assert "c" in (cell(pub, HARTLEPOOL, "c"), cell(pub, HARTLEPOOL, "total"))
    zero = frame.select(pl.col(c) == 0 for c in ("total", "a", "b", "c"))
    for col in zero.columns:
        hidden = pub.get_column(col).filter(zero.get_column(col))
        assert (hidden == "0").all()
    assert_all_pass(check_year(result.published, {"R": ds}))


@pytest.mark.parametrize("symbol", [":", "x"])
def test_unavailable_la_is_shown_with_the_symbol_and_never_protects(symbol: str) -> None:
    config = DisclosureConfig(not_available=symbol)
    ds = la_dataset("R", ["total", "a", "b", "c"], sums=SUMS)
    rows = _ne_rows(_row(3, 44, 60))
    rows[MIDDLESBROUGH] = {"total": None, "a": None, "b": None, "c": None}
    frame = frame_of(ds, rows)
    result = protect_year({"R": frame}, {"R": ds}, config)
    pub = result.published["R"]
    assert [cell(pub, MIDDLESBROUGH, c) for c in ("total", "a", "b", "c")] == [symbol] * 4
    assert cell(pub, HARTLEPOOL, "a") == "c"
    # the unavailable LA is left out of the regional sums, so it hides nothing
    assert region_cell(frame.with_columns(pl.col("a").cast(pl.String)), "E12000001", "a") == str(
        sum(v["a"] for la, v in rows.items() if v["a"] is not None)
    )
    assert_all_pass(check_year(result.published, {"R": ds}, config))


def test_a_single_small_la_is_protected_at_every_level() -> None:
    """One LA: England and its region repeat its counts (rounded), so 1, 1, 6 of 8 must not be
    recoverable from any level (found by the property tests)."""
    extra = (Indicator("a_percent", "a %", "percent", "t", numerator="a", denominator="total"),)
    ds = la_dataset("R", ["total", "a", "b", "c"], sums=SUMS, extra=extra)
    frame = frame_of(ds, {HARTLEPOOL: _row(1, 1, 6)})
    result = protect_year({"R": frame}, {"R": ds})
    assert_all_pass(check_year(result.published, {"R": ds}))
    assert cell(result.published["R"], HARTLEPOOL, "c") == "c"


def test_a_column_of_ones_hides_the_england_total_as_a_last_resort() -> None:
    """Ten LAs with 1 each: England's 10 (published 10, so 6..14) would prove every LA is at most 5,
    and nothing but the England total is left to hide: it goes, flagged in the report."""
    ds = la_dataset("N", ["n"])
    las = ["805", "806", "807", "808", "840", "841", "390", "391", "392", "393"]
    result = protect_year({"N": frame_of(ds, {la: {"n": 1} for la in las})}, {"N": ds}, STRICT)
    assert set(result.published["N"].get_column("n")) == {"c"}
    notes = result.report.filter(pl.col("note") != "")
    assert notes.select("geography_code", "kind").rows() == [("E92000001", "secondary")]
    assert "last resort" in notes.get_column("note").item()
    assert result.stats["england_totals_hidden"] == 1
    assert_all_pass(check_year(result.published, {"N": ds}, STRICT))


def test_a_pinned_region_is_protected_through_another_region_not_the_england_total() -> None:
    """Miniature of B2 Consciousness 2014: every North East LA has 1, and the regional percentage pins
    the region's 8 exactly, so each LA is provably 1. Freeing the North East total needs another region
    to give way; its LAs are three relations away, so a narrow repair would only see the England total.
    The region West Midlands and one of its LAs give way instead; the England total stays published."""
    extra = (Indicator("n_percent", "n %", "percent", "t", numerator="n", denominator="den"),)
    ds = la_dataset("K", ["n", "den"], extra=extra)
    north = ["805", "806", "807", "808", "840", "841", "390", "391"]
    west = ["330", "331", "332", "333", "334", "335", "336"]
    rows = {la: {"n": 1, "den": 125} for la in north} | {la: {"n": 20, "den": 200} for la in west}
    result = protect_year({"K": frame_of(ds, rows)}, {"K": ds}, STRICT)
    pub = result.published["K"]
    assert result.stats["england_totals_hidden"] == 0
    assert result.report.filter(pl.col("note") != "").is_empty()
    england = pub.filter(pl.col("geographic_level") == "National")
    assert england.get_column("n").item() != "c"
    assert region_cell(pub, "E12000001", "n") == region_cell(pub, "E12000005", "n") == "c"
    assert_all_pass(check_year(result.published, {"K": ds}, STRICT))


def test_percentages_and_rates_of_suppressed_counts_are_suppressed() -> None:
    extra = (
        Indicator("a_percent", "a %", "percent", "t", numerator="a", denominator="total"),
        Indicator("a_rate", "a rate", "rate", "t", numerator="a"),
    )
    ds = la_dataset("R", ["total", "a", "b", "c"], sums=SUMS, extra=extra)
    pops = {"E92000001": 900_000, "E12000001": 900_000, **{la: 150_000 for la in NE}}
    frame = frame_of(ds, _ne_rows(_row(3, 44, 60)), populations=pops)
    result = protect_year({"R": frame}, {"R": ds})
    pub = result.published["R"]
    assert cell(pub, HARTLEPOOL, "a_percent") == cell(pub, HARTLEPOOL, "a_rate") == "c"
    derived = result.report.filter(pl.col("kind") == "derived").get_column("column").to_list()
    assert {"a_percent", "a_rate"} <= set(derived)
    assert_all_pass(check_year(result.published, {"R": ds}, populations=pops))


def test_a_published_regional_rate_narrows_a_suppressed_la() -> None:
    """Region 498 = 3 + 495: rounding alone leaves 1..9, but a regional rate of 49.8 per 10,000 of a
    public population of 100,000 pins the region to 498 and so the small LA to exactly 3."""
    ds = la_dataset("N", ["n"], extra=(Indicator("n_rate", "rate", "rate", "t", numerator="n"),))
    pops = {"E92000001": 100_000, "E12000001": 100_000, HARTLEPOOL: 40_000, MIDDLESBROUGH: 60_000}
    frame = frame_of(ds, {HARTLEPOOL: {"n": 3}, MIDDLESBROUGH: {"n": 495}}, populations=pops)
    naive = publish_naively(ds, frame, {(row_of(frame, HARTLEPOOL), "n")})
    assert region_cell(naive, "E12000001", "n_rate") == "49.8"
    with_rates = failures(check_year({"N": naive}, {"N": ds}, populations=pops), "lp_audit")
    assert with_rates.filter(pl.col("row") == row_of(frame, HARTLEPOOL)).get_column("rule").to_list() == [
        "exact_disclosure"
    ]
    # without populations the rates cannot be audited: the audit fails, it never passes by skipping them
    unknown = failures(check_year({"N": naive}, {"N": ds}, populations={}), "lp_audit")
    assert set(unknown.get_column("rule")) == {"population_missing"}
    result = protect_year({"N": frame}, {"N": ds})
    assert cell(result.published["N"], MIDDLESBROUGH, "n") == "c"
    assert_all_pass(check_year(result.published, {"N": ds}, populations=pops))
