"""Each class of attack of issue 12 planted in a small hand-built release: a published pattern that is safe
against sums alone is caught by the audit once it knows the relation, and ``protect_year`` closes it.

Classes: an identity between statistics (episodes at any point = at 31 March + ending), an inequality
(children never exceed episodes), a regional percentage narrowing a rounded count, and a missing link (a
national file's Gender/Total row is the England row of the other files)."""

from __future__ import annotations

import polars as pl

from cin_assets.datasets.description import ColumnSum, DataSet, Filter, Indicator, RowSum, at_most, identity
from cin_assets.disclosure import check_year, disclosure_config, protect_year
from cin_assets_tests.disclosure.factories import (
    frame_of,
    la_dataset,
    national_frame,
    publish_naively,
    row_of,
)

# the spec's golden cases ask for the strict rule's guarantee: no primary provably below 6
STRICT = disclosure_config("strict")

NE = ["805", "806", "807", "808", "840", "841"]  # North East LAs: the region is England here
LA1, LA2, LA3 = "805", "806", "807"


def outcome(outcomes, name: str):
    return next(o for o in outcomes if o.name == name)


def caught(outcomes, where: tuple[str, int, str]) -> set[str]:
    """The rules of the failing lp_audit/linked_cells checks at (dataset, row, column)."""
    rules = set()
    for o in outcomes:
        f = o.failures.filter(
            (pl.col("dataset") == where[0]) & (pl.col("row") == where[1]) & (pl.col("column") == where[2])
        )
        rules |= set(f.get_column("rule").to_list())
    return rules


def assert_all_pass(outcomes) -> None:
    bad = {(o.name, o.dataset): o.failures.head(5).rows() for o in outcomes if not o.passed}
    assert not bad, bad


def interval(outcomes, where: tuple[str, int, str]) -> tuple[float, float]:
    report = outcome(outcomes, "lp_audit").report
    r = report.filter(
        (pl.col("dataset") == where[0]) & (pl.col("row") == where[1]) & (pl.col("column") == where[2])
    )
    return max(r["lo"].item(), r["proven_lo"].item()), min(r["up"].item(), r["proven_up"].item())


# ----------------------------------------------------------------------------------------- identity
EPISODES = ["Anypoint_episodes", "At31_episodes", "Ended_episodes"]
ANYPOINT = identity("Anypoint_episodes", ["At31_episodes", "Ended_episodes"], why="open or ended")


def _episodes(relations) -> tuple[DataSet, pl.DataFrame]:
    ds = la_dataset("E", EPISODES, relations=relations)
    rows = {la: {"Anypoint_episodes": 90, "At31_episodes": 50, "Ended_episodes": 40} for la in NE}
    rows[LA1] = {"Anypoint_episodes": 43, "At31_episodes": 3, "Ended_episodes": 40}
    return ds, frame_of(ds, rows)


def test_an_identity_between_statistics_is_caught_and_closed() -> None:
    plain, frame = _episodes(())
    ds, _ = _episodes((ANYPOINT,))
    # At31 hidden in two LAs: safe against the geography sums alone ...
    naive = publish_naively(
        ds, frame, {(row_of(frame, LA1), "At31_episodes"), (row_of(frame, LA2), "At31_episodes")}
    )
    assert_all_pass(check_year({"E": naive}, {"E": plain}, STRICT))
    # ... but At31 = Anypoint - Ended gives it away
    where = ("E", row_of(frame, LA1), "At31_episodes")
    outcomes = check_year({"E": naive}, {"E": ds}, STRICT)
    assert caught(outcomes, where) & {"exact_disclosure", "lone_suppressed"}
    assert interval(outcomes, where) == (3, 3)
    result = protect_year({"E": frame}, {"E": ds}, STRICT)
    outcomes = check_year(result.published, {"E": ds}, STRICT)
    assert_all_pass(outcomes)
    assert interval(outcomes, where)[1] >= 6
    hidden = result.published["E"].row(row_of(frame, LA1), named=True)
    assert sum(hidden[c] == "c" for c in EPISODES) >= 2  # another of the three goes with it


# --------------------------------------------------------------------------------------- inequality
def _children(relations) -> tuple[DataSet, pl.DataFrame]:
    ds = la_dataset("K", ["At31_episodes", "Anypoint_child"], relations=relations)
    rows = {la: {"At31_episodes": 40, "Anypoint_child": 50} for la in NE}
    rows[LA1] = {"At31_episodes": 2, "Anypoint_child": 3}
    rows[LA2] = {"At31_episodes": 50, "Anypoint_child": 50}
    return ds, frame_of(ds, rows)


def test_an_inequality_between_statistics_is_caught_and_closed() -> None:
    plain, frame = _children(())
    ds, _ = _children((at_most(["At31_episodes"], ["Anypoint_child"], why="in need at 31 March"),))
    r1, r2, r3 = (row_of(frame, la) for la in (LA1, LA2, LA3))
    # England's 253 children published as 250 leave LA1 + LA2 in [45, 54]: LA1 in [1, 53] ...
    hidden = {(r1, "Anypoint_child"), (r2, "Anypoint_child"), (r1, "At31_episodes"), (r3, "At31_episodes")}
    naive = publish_naively(ds, frame, hidden)
    assert_all_pass(check_year({"K": naive}, {"K": plain}, STRICT))
    # ... but LA2's children are at least its 50 children in need at 31 March: LA1 is at most 4
    where = ("K", r1, "Anypoint_child")
    outcomes = check_year({"K": naive}, {"K": ds}, STRICT)
    assert "protection_level" in caught(outcomes, where)
    assert interval(outcomes, where)[1] <= 4
    result = protect_year({"K": frame}, {"K": ds}, STRICT)
    outcomes = check_year(result.published, {"K": ds}, STRICT)
    assert_all_pass(outcomes)
    assert interval(outcomes, where)[1] >= 6


# --------------------------------------------------------------------------------------- percentage
def test_a_regional_percentage_narrowing_a_rounded_count_is_caught_and_closed() -> None:
    share = Indicator("part_percent", "part %", "percent", "test", numerator="part", denominator="total")
    ds = la_dataset("P", ["total", "part"], extra=(share,))
    rows = {la: {"total": 20, "part": 0} for la in NE}
    rows[LA1] = {"total": 10, "part": 3}
    rows[LA2] = {"total": 70, "part": 57}
    rows[LA3] = {"total": 10, "part": 3}
    frame = frame_of(ds, rows)
    # England/region part 63 is published as 60 ([55, 64]): LA1 + LA3 in [2, 7], so LA1 can be 6 ...
    hidden = {(row_of(frame, LA1), "part"), (row_of(frame, LA3), "part")}
    naive = publish_naively(ds, frame, hidden)
    without_percent = naive.with_columns(pl.lit("c").alias("part_percent"))
    assert outcome(check_year({"P": without_percent}, {"P": ds}, STRICT), "lp_audit").passed
    # ... but 52.5% of the exact total 120 makes the part 63, so LA1 + LA3 = 6 and both are small
    where = ("P", row_of(frame, LA1), "part")
    outcomes = check_year({"P": naive}, {"P": ds}, STRICT)
    assert "protection_level" in caught(outcomes, where)
    result = protect_year({"P": frame}, {"P": ds}, STRICT)
    assert_all_pass(check_year(result.published, {"P": ds}, STRICT))


# ------------------------------------------------------------------------------------- missing link
CATEGORIES = ["CPP_At31", "Neglect", "Physical", "Sexual", "Emotional", "Multiple"]
BY_CATEGORY = ColumnSum("CPP_At31", tuple(CATEGORIES[1:]))


def _national(code: str, *, characteristics: bool) -> DataSet:
    filters, _rows, row_sums = (), (), ()
    if characteristics:
        kinds = Filter("characteristic_type", "type", ("Gender",))
        items = Filter(
            "characteristic", "item", ("Total", "Female", "Male"), total="Total", group="characteristic_type"
        )
        filters = (kinds, items)
        both = lambda item: {"characteristic_type": "Gender", "characteristic": item}  # noqa: E731
        row_sums = (RowSum(both("Total"), (both("Female"), both("Male"))),)
    return DataSet(
        code=code,
        stem=code.lower(),
        title=code,
        description="test",
        geography="national",
        first_year=2013,
        last_year=2020,
        indicators=tuple(Indicator(c, c, "count", "test") for c in CATEGORIES),
        filters=filters,
        column_sums=(BY_CATEGORY,),
        row_sums=row_sums,
    )


def test_a_national_total_row_is_the_england_cell_of_the_other_files() -> None:
    plain, by_gender = _national("N6", characteristics=False), _national("N5", characteristics=True)
    datasets = {"N6": plain, "N5": by_gender}
    england = {
        "CPP_At31": 700,
        "Neglect": 300,
        "Physical": 200,
        "Sexual": 3,
        "Emotional": 150,
        "Multiple": 47,
    }
    female = {"CPP_At31": 350, "Neglect": 150, "Physical": 100, "Sexual": 1, "Emotional": 70, "Multiple": 29}
    male = {k: england[k] - female[k] for k in england}
    frames = {
        "N6": national_frame(plain, pl.DataFrame([england])),
        "N5": national_frame(
            by_gender,
            pl.DataFrame(
                [
                    {"characteristic_type": "Gender", "characteristic": item, **values}
                    for item, values in (("Total", england), ("Female", female), ("Male", male))
                ]
            ),
        ),
    }
    # each file protected on its own picks its own partner for Sexual: read together, both are known
    naive = {
        "N6": publish_naively(plain, frames["N6"], {(0, "Sexual"), (0, "Multiple")}),
        "N5": publish_naively(
            by_gender,
            frames["N5"],
            {
                (0, "Sexual"),
                (0, "Emotional"),
                (1, "Sexual"),
                (1, "Emotional"),
                (2, "Sexual"),
                (2, "Emotional"),
            },
        ),
    }
    outcomes = check_year(naive, datasets)
    assert "linked_cells" in caught(outcomes, ("N5", 0, "Emotional")) | caught(
        outcomes, ("N6", 0, "Multiple")
    )
    result = protect_year(frames, datasets)
    assert_all_pass(check_year(result.published, datasets))
    total_row = result.published["N5"].row(0, named=True)
    assert all(total_row[c] == result.published["N6"].row(0, named=True)[c] for c in CATEGORIES)
