"""The algorithms the suppressor and the audit share: integer bound propagation and LP batching."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cin_assets.disclosure.lp import colour_classes, propagate, waves


def test_propagation_rounds_to_whole_numbers_where_the_lp_would_not() -> None:
    # x + y = 7 with x, y >= 1, and 10 y <= 25 (a ratio bound): y <= 2 (the LP allows 2.5), so x >= 5
    A_eq, b_eq = sp.csr_matrix(np.array([[1.0, 1.0]])), np.array([7.0])
    A_ub, b_ub = sp.csr_matrix(np.array([[0.0, 10.0]])), np.array([25.0])
    lo, hi, moving = propagate(A_eq, b_eq, A_ub, b_ub, np.array([1.0, 1.0]), np.array([np.inf, np.inf]))
    assert (lo.tolist(), hi.tolist()) == ([5.0, 1.0], [6.0, 2.0]) and not moving.any()


def test_propagation_pins_a_lone_unknown_and_leaves_a_free_pair_open() -> None:
    A_eq = sp.csr_matrix(np.array([[1.0, -1.0, 0.0], [0.0, 1.0, 1.0]]))
    b_eq = np.array([0.0, 30.0])
    lo, hi, _ = propagate(A_eq, b_eq, sp.csr_matrix((0, 3)), np.zeros(0), np.ones(3), np.full(3, np.inf))
    assert lo.tolist() == [1.0, 1.0, 1.0] and hi.tolist() == [29.0, 29.0, 29.0]
    pinned = np.array([1.0, 1.0, 4.0]), np.array([np.inf, np.inf, 4.0])
    lo, hi, _ = propagate(A_eq, b_eq, sp.csr_matrix((0, 3)), np.zeros(0), *pinned)
    assert lo.tolist() == [26.0, 26.0, 4.0] and hi.tolist() == [26.0, 26.0, 4.0]


def test_propagation_stopped_before_it_settles_says_which_cells_were_still_tightening() -> None:
    # a chain x0 = x1 + 1 = x2 + 2 = x3 + 3 with x3 = 5: each round pins one more link
    A_eq = sp.csr_matrix(np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 1.0, -1.0, 0.0], [0.0, 0.0, 1.0, -1.0]]))
    b_eq = np.ones(3)
    start = np.zeros(4), np.array([np.inf, np.inf, np.inf, 5.0])
    none = sp.csr_matrix((0, 4)), np.zeros(0)
    lo, hi, moving = propagate(A_eq, b_eq, *none, *start, rounds=1)
    assert hi.tolist() == [np.inf, np.inf, 6.0, 5.0] and moving.tolist() == [True, True, True, False]
    lo, hi, moving = propagate(A_eq, b_eq, *none, *start)
    assert hi.tolist() == [8.0, 7.0, 6.0, 5.0] and lo.tolist() == [3.0, 2.0, 1.0, 0.0] and not moving.any()
    assert propagate(A_eq, b_eq, *none, *start, rounds=0)[2].all()  # no round run: nothing shown settled


def test_batches_hold_one_cell_per_component_and_classes_share_no_relation() -> None:
    comp = np.array([0, 0, 1, 1, 1, 2])
    batches = list(waves(np.arange(6), comp))
    assert [b.tolist() for b in batches] == [[0, 2, 5], [1, 3], [4]]
    A = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]]))
    classes = colour_classes(np.arange(4), A)
    for group in classes:
        assert ((A[:, group] != 0).sum(axis=1) <= 1).all()
    assert sorted(np.concatenate(classes).tolist()) == [0, 1, 2, 3]
