"""The reference readers see a data root's edits without a restart (a code server stays up for days)."""

from __future__ import annotations

import shutil
from pathlib import Path

from cin_assets import reference


def test_an_edited_reference_file_is_read_again(tmp_path: Path) -> None:
    ref = tmp_path / "reference"
    shutil.copytree(reference.SHIPPED_REFERENCE, ref)
    before = reference.dfe_exceptions(ref)
    edited = (ref / "dfe_exceptions.csv").read_text().rstrip("\n").splitlines()
    edited.append(edited[-1].replace(edited[-1].split(",")[0], "2019", 1))
    (ref / "dfe_exceptions.csv").write_text("\n".join(edited) + "\n")
    after = reference.dfe_exceptions(ref)
    assert after.height == before.height + 1
    assert 2019 in after["reporting_year"].to_list()
