"""Declared exceptions: read from the data root's file and the run config, refused when ambiguous."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cin_assets.census import exceptions


def test_file_and_config_declarations_combine(tmp_path: Path) -> None:
    path = tmp_path / exceptions.FILE_NAME
    path.write_text(
        "# declared by the team\nreporting_year,la_code,action,note\n2020,206,not_available,refused\n"
    )
    config = exceptions.from_rows([{"reporting_year": 2020, "la_code": "204", "action": "carry_forward"}])
    both = exceptions.combine(exceptions.read_file(path), config)
    assert both.select("reporting_year", "la_code", "action", "declared_in").rows() == [
        (2020, "204", "carry_forward", "run config"),
        (2020, "206", "not_available", "exceptions.csv"),
    ]
    assert exceptions.read_file(tmp_path / "absent.csv").is_empty()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "reporting_year,la_code,action\n2020,206,zero\n",
            "action 'zero' is not one of not_available, carry_forward",
        ),
        (
            "reporting_year,la_code,action\n2020,Hackney,not_available\n",
            "la_code 'Hackney' is not a DfE LA code",
        ),
        ("reporting_year,la_code\n2020,206\n", "missing column(s) action"),
    ],
)
def test_a_bad_declaration_is_an_error_naming_the_row(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / exceptions.FILE_NAME
    path.write_text(text)
    with pytest.raises(exceptions.ExceptionsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        exceptions.read_file(path)


def test_one_la_declared_two_ways_is_an_error() -> None:
    rows = [
        {"reporting_year": 2020, "la_code": "204", "action": "carry_forward"},
        {"reporting_year": 2020, "la_code": "204", "action": "not_available"},
    ]
    with pytest.raises(exceptions.ExceptionsError, match="LA 204 in 2020 is declared both"):
        exceptions.combine(exceptions.from_rows(rows))


def test_published_cells_of_carried_las_become_the_symbol() -> None:
    frame = pl.DataFrame(
        {
            "geographic_level": ["National", "Local authority", "Local authority"],
            "old_la_code": [None, "204", "210"],
        }
    ).with_columns(pl.Series("n", ["120", "c", "87"]))
    out = exceptions.not_available({"B1": frame}, {"B1": ["n"]}, ["204"], "x")["B1"]
    assert out["n"].to_list() == ["120", "x", "87"]
