"""The return inventory on the reader's own tables: every status from real (tiny) files."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from cin_assets.census import inventory
from cin_assets.census.reader import census_files, read_returns
from cin_assets_tests.census.test_reader import HEADER, child, write_return

EXPECTED = pl.DataFrame(
    {"la_code": ["845", "846", "850", "851", "852", "853", "854"], "la_name": list("ABCDEFG")}
)


def _inventory(folder: Path, declared: pl.DataFrame | None = None) -> pl.DataFrame:
    files = census_files(folder.parent, 2020)
    out = read_returns(files, year=2020, workers=1)
    listing = pl.DataFrame(
        {"source_file": [f.name for f in files], "bytes": [f.stat().st_size for f in files]}
    )
    return inventory.build(2020, EXPECTED, listing, out["headers"], out["issues"], declared)


def _census(tmp_path: Path) -> Path:
    folder = tmp_path / "2020"
    write_return(folder / "845.xml", child("A") + child("B"))
    write_return(folder / "846.xml", child("A"), HEADER.replace("845", "846"))
    shutil.copy(folder / "846.xml", folder / "846 resubmitted.xml")  # a second file for 846
    broken = write_return(folder / "850.xml", child("A"), HEADER.replace("845", "850"))
    broken.write_text(broken.read_text()[:-100])  # refused: not well-formed
    write_return(folder / "851.xml", child("A"), HEADER.replace("845", "852"))  # header names another LA
    write_return(folder / "852.xml", child("A") + child("B") + child("C"), HEADER.replace("845", "852"))
    write_return(folder / "999.xml", child("A"), HEADER.replace("845", "999"))  # no such LA this year
    absurd = HEADER.replace("845", "854").replace("<Year>2020</Year>", "<Year>99999999999</Year>")
    write_return(folder / "854.xml", child("A"), absurd)  # a header Year that is no year
    return folder  # 853: missing


def test_every_status_is_named_with_its_files(tmp_path: Path) -> None:
    inv = _inventory(_census(tmp_path))
    rows = {r["la_code"]: r for r in inv.iter_rows(named=True)}
    assert {la: r["status"] for la, r in rows.items()} == {
        "845": "loaded",
        "846": "duplicate",
        "850": "refused",
        "851": "header_mismatch",
        "852": "loaded",
        "853": "missing",
        "854": "header_mismatch",
        "999": "unexpected",
    }
    assert rows["846"]["reason"] == "2 files for one LA: 846 resubmitted.xml, 846.xml; none is counted"
    assert rows["850"]["reason"].startswith("850.xml: not well-formed XML")
    assert rows["851"]["reason"] == "851.xml: the header says LEA 852 but the file is named for LA 851"
    assert rows["853"]["reason"] == "no return: census/2020/853.xml does not exist"
    # the file naming 852 in its header is not moved there: 852 holds its own three children only
    assert (rows["845"]["children"], rows["852"]["children"], rows["851"]["children"]) == (2, 3, 1)
    assert rows["845"]["bytes"] > 0 and rows["853"]["bytes"] == 0
    assert inventory.counted_las(inv) == ["845", "852"]
    assert rows["854"]["reason"].startswith("854.xml: the header's Year '99999999999' is not a year")
    assert inventory.unusable(inv)["la_code"].to_list() == ["846", "850", "851", "853", "854", "999"]


def test_a_declaration_releases_the_block_but_never_counts_the_la(tmp_path: Path) -> None:
    declared = pl.DataFrame({"la_code": ["846", "850", "851", "853", "854"], "action": ["not_available"] * 5})
    inv = _inventory(_census(tmp_path), declared)
    assert inventory.unusable(inv)["la_code"].to_list() == [
        "999"
    ]  # an unexpected file is never declared away
    assert inventory.counted_las(inv) == ["845", "852"]
