"""The suppressor's attacker keeps to the integer bounds the relations imply, as the audit does: a
certificate from a fractional point outside them does not count, the attack's points stay within them, and a
repair's certificate (found on the published bounds) is checked by the attack again."""

from __future__ import annotations

import numpy as np

from cin_assets.datasets.description import at_most
from cin_assets.disclosure.config import DisclosureConfig
from cin_assets.disclosure.lp import propagate
from cin_assets.disclosure.model import build_model
from cin_assets.disclosure.suppress import _Suppressor
from cin_assets_tests.disclosure.factories import frame_of, la_dataset, row_of
from cin_assets_tests.disclosure.test_attacks import LA1, LA2, LA3, NE


def test_a_certificate_outside_the_integer_bounds_is_attacked_again() -> None:
    ds = la_dataset(
        "K",
        ["At31_episodes", "Anypoint_child"],
        relations=(at_most(["At31_episodes"], ["Anypoint_child"], why="in need at 31 March"),),
    )
    rows = {la: {"At31_episodes": 40, "Anypoint_child": 50} for la in NE}
    rows[LA1] = {"At31_episodes": 2, "Anypoint_child": 3}
    rows[LA2] = {"At31_episodes": 50, "Anypoint_child": 50}
    frame = frame_of(ds, rows)
    model = build_model({"K": frame}, {"K": ds}, DisclosureConfig())
    occ = model.occurrences
    cells = [
        occ.filter((occ["row"] == row_of(frame, la)) & (occ["column"] == column))["cell"].item()
        for la in (LA1, LA2, LA3)
        for column in ("At31_episodes", "Anypoint_child")
    ]
    start = model.primary.copy()
    start[cells] = True  # enough hidden that integer reasoning alone pins nothing
    worker = _Suppressor(model, start)
    system = worker.system()
    assert system is not None
    unknown = ~system.candidate
    p_lo, p_hi, _ = propagate(
        system.A_eq[:, unknown],
        system.b_fixed,
        system.A_ub[:, unknown],
        system.ub_fixed,
        system.lo[unknown],
        system.hi[unknown],
    )
    # the attack LP's bounds are the integer bounds, so its points keep within them
    assert np.array_equal(system.int_lo[unknown], p_lo)
    assert np.array_equal(system.int_hi[unknown], np.minimum(p_hi, 1e9))
    at = system.cells[unknown]
    hidden = at[worker.S[at]]
    lo_h, hi_h = p_lo[worker.S[at]], p_hi[worker.S[at]]
    assert np.all(hi_h - lo_h >= 1) and np.all(hi_h >= 6)  # integer reasoning alone pins nothing
    # an LP point certified them at a value no whole-number solution reaches: attacked again
    worker.certified[hidden] = True
    worker.cert_value[hidden] = lo_h - 0.5
    worker.system()
    assert not worker.certified[hidden].any()
    # a certificate within the bounds stands
    worker.certified[hidden] = True
    worker.cert_value[hidden] = lo_h
    worker.system()
    assert worker.certified[hidden].all()
    # ... unless a repair on the published bounds gave it: the attack checks it again
    worker.provisional[hidden] = True
    worker.system()
    assert not worker.certified[hidden].any() and not worker.provisional.any()
