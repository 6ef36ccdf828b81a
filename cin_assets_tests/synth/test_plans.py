"""One LA's yearly plans from the reference folder the targets came from."""

from __future__ import annotations

import shutil
from pathlib import Path

from cin_assets import reference
from cin_assets.synth import calibration, plans


def test_a_successors_declared_look_back_in_the_reference_folder_shapes_its_plans(tmp_path: Path) -> None:
    """North Northamptonshire 2022 (``own_return`` as shipped: DfE counted re-referrals within its first
    return) gets its published children referred exactly. A reference folder that declares a look-back on
    Northamptonshire's returns (``predecessors``) instead leaves its children referred to the re-referral
    draw, as its re-referrals then count children referred before the split."""
    ref = tmp_path / "reference"
    shutil.copytree(reference.SHIPPED_REFERENCE, ref)
    table = ref / "la_successors.csv"
    lines = table.read_text().splitlines(keepends=True)
    table.write_text("".join(
        line.replace("own_return", "predecessors") if line.startswith("2022,940,") else line for line in lines
    ))  # fmt: skip
    declared_modes = dict(
        reference.successors(2022, ref).select("la_code", "first_year_lookback").iter_rows()
    )
    assert declared_modes == {"940": "predecessors", "941": "own_return"}
    shipped = {p.year: p for p in plans.year_plans("940", calibration.scaled_targets(1.0))}
    declared = {p.year: p for p in plans.year_plans("940", calibration.scaled_targets(1.0, ref), ref)}
    assert shipped[2022].referred_children > 5000 and declared[2022].referred_children == -1
    assert declared[2023].referred_children == shipped[2023].referred_children > 0


def test_children_conferenced_and_re_referred_are_targets_only_where_dfe_published_consistent_counts() -> (
    None
):
    """Lancashire 2014 published 118 ICPCs for 1,291 plans starting; its ICPCs are raised to the plans
    (``ICPC_adjusted``), which would need over a thousand children conferenced twice, so its children
    conferenced are left to the draws; 2015 is a target. Dorset's re-referrals of 2020, its first year, are
    ``x``: no target for its children re-referred; 2021 has one."""
    targets = calibration.scaled_targets(1.0)
    lancashire = {p.year: p for p in plans.year_plans("888", targets)}
    assert lancashire[2014].icpc_children == -1 and lancashire[2015].icpc_children > 0
    dorset = {p.year: p for p in plans.year_plans("838", targets)}
    assert dorset[2020].rereferred_children == -1 and dorset[2021].rereferred_children > 0
