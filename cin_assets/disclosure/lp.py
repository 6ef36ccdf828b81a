"""One way to call the LP solver, shared by the suppressor's attack and repair and the independent audit.

Only algorithms are shared (the call, batching one cell per component, colouring cells that share no
relation, integer bound propagation): each side builds its own equations (the audit from the published
files).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import OptimizeResult, linprog

_MILP_NODES = 1_000  # a mixed-integer repair batch gives up after this many branch-and-bound nodes
# (a node limit, not a time limit, so the pattern does not depend on the machine's speed)

# A scipy.sparse matrix or array: scipy's own annotations read their shapes as Optional.
Sparse = Any


def highs(
    cost: np.ndarray,
    bounds: np.ndarray,
    A_ub: Sparse | None = None,
    b_ub: np.ndarray | None = None,
    A_eq: Sparse | None = None,
    b_eq: np.ndarray | None = None,
    integrality: np.ndarray | None = None,
) -> OptimizeResult:
    """Minimise ``cost @ x`` with HiGHS; constraint blocks without rows are left out (scipy rejects them).

    ``integrality`` (1 = whole number) makes it a mixed-integer programme, stopped after
    ``_MILP_NODES`` nodes (the best point found so far, if any, is in ``x``)."""
    has_ub = A_ub is not None and A_ub.shape[0] > 0
    has_eq = A_eq is not None and A_eq.shape[0] > 0
    return linprog(
        cost,
        A_ub=A_ub if has_ub else None,
        b_ub=b_ub if has_ub else None,
        A_eq=A_eq if has_eq else None,
        b_eq=b_eq if has_eq else None,
        bounds=bounds,
        method="highs",
        integrality=integrality,
        options={"mip_max_nodes": _MILP_NODES} if integrality is not None else None,
    )


def colour_classes(cells: np.ndarray, A: Sparse) -> list[np.ndarray]:
    """Greedy colouring of columns ``cells`` of ``A`` (most connected first): cells in one class share no
    row, so one LP can push a whole class at once without the cells competing."""
    if cells.size == 0:
        return []
    inc = (A[:, cells] != 0).astype(np.int32).tocsc()
    adj = (inc.T @ inc).tolil()
    colour = np.full(cells.size, -1)
    for i in np.argsort(-np.asarray(adj.getnnz(axis=1)), kind="stable"):
        taken = {int(colour[j]) for j in adj.rows[i] if j != i}
        c = 0
        while c in taken:
            c += 1
        colour[i] = c
    return [cells[colour == c] for c in range(colour.max() + 1)]


def waves(cells: np.ndarray, comp: np.ndarray):
    """Split ``cells`` into batches holding at most one cell per component (in cell order): independent
    components solve as one LP, and a sum of their objectives optimises each."""
    order = np.lexsort((cells, comp[cells]))
    cells = cells[order]
    rank = np.arange(cells.size) - np.searchsorted(comp[cells], comp[cells])
    for r in range(int(rank.max()) + 1 if cells.size else 0):
        yield cells[rank == r]


def _as_upper_rows(
    A_eq: Sparse, b_eq: np.ndarray, A_ub: Sparse, b_ub: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every constraint as rows ``a @ x <= b`` (an equality is two), as (row, column, coef) entries and b."""
    A = sp.vstack([A_eq, -A_eq, A_ub]).tocoo()
    b = np.r_[b_eq, -b_eq, b_ub]
    return A.row.astype(np.int64), A.col.astype(np.int64), A.data.astype(float), b


def propagate(
    A_eq: Sparse,
    b_eq: np.ndarray,
    A_ub: Sparse,
    b_ub: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    rounds: int = 1_000,
    tol: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer interval reasoning: tighten ``lo <= x <= hi`` for integer ``x`` by each constraint in turn
    (``x_j`` can be no more than what the rest of its row leaves, rounded down), until nothing changes.

    Every bound it returns is implied (an outer bound), so it can prove a cell small or exact where the
    linear programme's relaxation leaves a fractional gap; infeasible systems may return lo > hi (it stops
    there). The third array marks the cells whose bounds were still tightening after ``rounds`` rounds
    (none when it settled): their bounds may be wider than integer reasoning proves, so a caller judging
    protection must not count them safe."""
    row, col, a, b = _as_upper_rows(A_eq, b_eq, A_ub, b_ub)
    lo, hi = np.ceil(lo - tol), np.floor(hi + tol)
    moving = np.ones(lo.size, dtype=bool)  # nothing is settled until a round changes nothing
    nrow = b.size
    for _ in range(rounds):
        least = np.where(a > 0, a * lo[col], a * hi[col])  # each entry's smallest contribution
        inf = np.isneginf(least) | np.isnan(least)
        total = np.bincount(row, np.where(inf, 0.0, least), nrow)
        n_inf = np.bincount(row, inf, nrow)
        ok = n_inf[row] - inf == 0
        rest = total[row] - np.where(inf, 0.0, least)
        with np.errstate(invalid="ignore", divide="ignore"):
            bound = (b[row] - rest) / a
        new_hi, new_lo = hi.copy(), lo.copy()
        up = ok & (a > 0)
        np.minimum.at(new_hi, col[up], np.floor(bound[up] + tol))
        down = ok & (a < 0)
        np.maximum.at(new_lo, col[down], np.ceil(bound[down] - tol))
        moving = (new_hi != hi) | (new_lo != lo)
        lo, hi = new_lo, new_hi
        if not moving.any() or (lo > hi).any():
            return lo, hi, np.zeros(lo.size, dtype=bool)
    return lo, hi, moving
