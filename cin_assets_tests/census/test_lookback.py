"""Each LA's look-back from the previous year's inventory: counted, declared, new, first year or unusable."""

import polars as pl

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
