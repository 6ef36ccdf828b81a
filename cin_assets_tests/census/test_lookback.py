"""Each LA's look-back from the previous year's inventory: counted, declared, new, first year or unusable."""

import polars as pl
import pytest

from cin_assets import reference
from cin_assets.census import inventory as returns
from cin_assets.census import lookback


def _previous(rows: list[tuple[str, str, str | None]]) -> pl.DataFrame:
    """A 2019 inventory: (la_code, status, declared) per row."""
    return pl.DataFrame(
        {
            "reporting_year": 2019,
            "la_code": [r[0] for r in rows],
            "la_name": [f"LA {r[0]}" for r in rows],
            "files": [None if r[1] == returns.MISSING else f"{r[0]}.xml" for r in rows],
            "status": [r[1] for r in rows],
            "reason": [f"reason {r[0]}" for r in rows],
            "children": 1,
            "bytes": 1,
            "declared": [r[2] for r in rows],
            "counted": [r[1] == returns.LOADED and r[2] is None for r in rows],
        },
        schema=returns.SCHEMA,
    )


EXPECTED = pl.DataFrame({"la_code": ["201", "202", "203", "204", "205", "206"], "la_name": list("ABCDEF")})
PREVIOUS = _previous(
    [
        ("201", returns.LOADED, None),
        ("202", returns.MISSING, None),
        ("203", returns.REFUSED, "not_available"),
        ("204", returns.MISSING, "carry_forward"),
        ("205", returns.DUPLICATE, None),
        ("999", returns.UNEXPECTED, None),  # a stray file is no LA's look-back
    ]
)


def test_each_la_gets_the_previous_inventory_verdict() -> None:
    frame = lookback.build(2020, EXPECTED, PREVIOUS)
    assert dict(frame.select("la_code", "lookback").iter_rows()) == {
        "201": lookback.COUNTED,
        "202": lookback.UNUSABLE,
        "203": "not_available",
        "204": "carry_forward",
        "205": lookback.UNUSABLE,
        "206": lookback.NEW_LA,
    }
    assert lookback.counted_las(frame) == ["201"]
    assert lookback.unusable(frame)["la_code"].to_list() == ["202", "205"]
    # an LA declared in the year itself never has its look-back read
    assert lookback.unusable(frame, pl.DataFrame({"la_code": ["205"]}))["la_code"].to_list() == ["202"]


def test_problems_name_the_year_la_file_and_reason() -> None:
    lines = lookback.problems(lookback.unusable(lookback.build(2020, EXPECTED, PREVIOUS)))
    assert lines[0].startswith(
        "[2020] LA 202 B: look-back to its 2019 return census/2019/202.xml is missing (reason 202)"
    )
    assert "[2020] LA 205 E: look-back to its 2019 return census/2019/205.xml is duplicate" in lines[1]


def test_no_previous_census_makes_every_look_back_unavailable_and_none_blocking() -> None:
    frame = lookback.build(2013, EXPECTED, None)
    assert set(frame["lookback"]) == {lookback.NO_CENSUS}
    assert lookback.unusable(frame).is_empty() and lookback.counted_las(frame) == []


def test_notes_state_what_the_figures_hold() -> None:
    frame = lookback.build(2020, EXPECTED, PREVIOUS).with_columns(basis=pl.lit("counted"))
    first = lookback.build(2013, EXPECTED.head(1), None).with_columns(basis=pl.lit("counted"))
    notes = lookback.notes(pl.concat([first, frame]))
    assert notes[0].startswith("2013: re-referrals are not available for any local authority")
    assert [n[:30] for n in notes[1:]] == [
        "2020: C (203): re-referrals ar",
        "2020: D (204): re-referrals ar",
        "2020: F (206): re-referrals ar",
    ]
    assert "its 2019 return was declared carry forward" in notes[2]
    assert "it is new in 2020 or has a new code, so it has no 2019 return of its own" in notes[3]
    # an LA not counted in the year has its own note (exceptions.notes), not a look-back one
    assert lookback.notes(frame.with_columns(basis=pl.lit("not_available"))) == []


SUCCESSORS = pl.DataFrame(
    {
        "la_code": ["940", "941", "839", "839", "942"],
        "predecessor_la_code": ["928", "928", "836", "837", "909"],
        "first_year_lookback": [
            "predecessors",
            "predecessors",
            "not_available",
            "not_available",
            "own_return",
        ],
    }
)
SPLIT = pl.DataFrame(
    {"la_code": ["201", "940", "941", "839", "942"], "la_name": ["A", "NN", "WN", "BCP", "Cumberland"]}
)


def test_each_successor_looks_back_as_declared() -> None:
    """``predecessors``: on its predecessor's return; ``not_available``: nothing (DfE published x);
    ``own_return``: nothing to look back on, its re-referrals counted within its own return."""
    previous = _previous([("201", returns.LOADED, None), ("928", returns.LOADED, None)])
    frame = lookback.build(2020, SPLIT, previous, SUCCESSORS)
    got = {r["la_code"]: (r["lookback"], r["looks_back_on"], r["files"]) for r in frame.iter_rows(named=True)}
    assert got == {
        "201": (lookback.COUNTED, "201", "201.xml"),
        "940": (lookback.COUNTED, "928", "928.xml"),
        "941": (lookback.COUNTED, "928", "928.xml"),
        "839": (lookback.NEW_LA, None, None),
        "942": (lookback.OWN_RETURN, None, None),
    }
    reason = dict(frame.select("la_code", "reason").iter_rows())
    assert "its predecessors' (836, 837) 2019 returns are not looked back on" in reason["839"]
    assert "counted within its own" not in reason["839"]
    assert "its re-referrals are counted within its own 2020 return, as DfE did" in reason["942"]
    # the predecessor's rows are looked back on under each successor's code; a stray LA's never
    rows = pl.DataFrame({"la_code": ["928", "201", "999", "909"], "LAchildID": ["a", "b", "c", "d"]})
    mapped = lookback.looked_back_rows(rows, frame)
    assert sorted(mapped.iter_rows()) == [("201", "b"), ("940", "a"), ("941", "a")]
    notes = lookback.notes(frame.with_columns(basis=pl.lit("counted")))
    assert [n[:24] for n in notes] == [
        "2020: NN (940): its re-r",
        "2020: WN (941): its re-r",
        "2020: Cumberland (942): ",
        "2020: BCP (839): re-refe",
    ]
    assert notes[0].startswith(
        "2020: NN (940): its re-referrals look back on the 2019 return of the authority"
    )
    assert "re-referrals are counted within its own 2020 return, as DfE counted them" in notes[2]
    assert "so their re-referral percentages understate, as in DfE's releases" in notes[3]


def test_a_successors_unusable_predecessor_return_blocks_only_where_it_is_looked_back_on() -> None:
    previous = _previous([("201", returns.LOADED, None), ("928", returns.MISSING, None)])
    frame = lookback.build(2020, SPLIT, previous, SUCCESSORS)
    assert lookback.unusable(frame)["la_code"].to_list() == ["940", "941"]  # not own_return 942
    lines = lookback.problems(lookback.unusable(frame))
    assert lines[0].startswith(
        "[2020] LA 940 NN: look-back to its 2019 return census/2019/928.xml is missing (predecessor 928: reason"
    )
    declared = _previous([("201", returns.LOADED, None), ("928", returns.MISSING, "not_available")])
    frame = lookback.build(2020, SPLIT, declared, SUCCESSORS)
    assert frame.filter(pl.col("la_code") == "940")["lookback"].item() == "not_available"
    assert lookback.looked_back_rows(pl.DataFrame({"la_code": ["928"], "x": [1]}), frame).is_empty()


def _las(year: int) -> pl.DataFrame:
    return reference.local_authorities(year).select(pl.col("old_la_code").alias("la_code"), "la_name")


@pytest.mark.parametrize(
    ("year", "own", "new"),
    [(2020, set(), {"838", "839"}), (2022, {"940", "941"}, set()), (2024, {"942", "943"}, set())],
)
def test_the_shipped_successors_table_counts_as_dfe_published(year: int, own: set, new: set) -> None:
    """With every LA's previous return loaded: NN/WN 2022 and Cumberland/W&F 2024 count within their own
    return (DfE's re-referrals there are exactly referrals less children referred), Dorset and BCP 2020
    have none (DfE published x), North Yorkshire and Somerset keep their 3-digit codes in 2024 and look back
    on their own returns; nobody looks back on another LA's return, nobody blocks."""
    before = _las(year - 1).with_columns(
        reporting_year=pl.lit(year - 1, pl.Int32),
        files=pl.col("la_code") + ".xml",
        status=pl.lit(returns.LOADED),
        reason=pl.lit("loaded"),
        declared=pl.lit(None, pl.String),
    )
    frame = lookback.build(year, _las(year), before, reference.successors(year))
    assert lookback.unusable(frame).is_empty()
    assert set(frame.filter(pl.col("lookback") == lookback.NEW_LA)["la_code"]) == new
    assert set(frame.filter(pl.col("lookback") == lookback.OWN_RETURN)["la_code"]) == own
    assert frame.filter(pl.col("looks_back_on") != pl.col("la_code")).is_empty()
    kept = frame.filter(pl.col("la_code").is_in(["815", "933"]))
    assert kept["lookback"].to_list() == [lookback.COUNTED] * 2 and kept["looks_back_on"].to_list() == [
        "815",
        "933",
    ]


@pytest.mark.parametrize("year", [2022, 2024])
def test_own_return_is_what_dfe_published(year: int) -> None:
    """The ``own_return`` declarations rest on DfE's own figures: in each successor's first year its
    re-referrals are exactly its referrals less its children referred (a child referred again within the
    year), and in its second year, with a look-back, they are more."""
    own = reference.successors(year).filter(pl.col("first_year_lookback") == lookback.OWN_RETURN)
    assert own.height == 2
    for y, equal in ((year, True), (year + 1, False)):
        got = {
            c: dict(reference.published_la_value(c, y).iter_rows())
            for c in ("Referrals", "Referrals_child", "Re_referrals")
        }
        for la in own["la_code"]:
            within = got["Referrals"][la] - got["Referrals_child"][la]
            assert (got["Re_referrals"][la] == within) is equal, (la, y)
            assert got["Re_referrals"][la] >= within


def test_an_unknown_first_year_lookback_is_refused(tmp_path) -> None:
    table = reference.SHIPPED_REFERENCE / "la_successors.csv"
    text = table.read_text().replace("own_return", "linked", 1)
    (tmp_path / "la_successors.csv").write_text(text)
    with pytest.raises(ValueError, match=r"first_year_lookback \['linked'\] of LA \['940'\] \(2022\)"):
        reference.successors(2022, tmp_path)
