"""One way to call the LP solver, shared by the suppressor's attack and repair and the independent audit.

Only the call is shared: each side still builds its own equations (the audit from the published files).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult, linprog

# A scipy.sparse matrix or array: scipy's own annotations read their shapes as Optional.
Sparse = Any


def highs(
    cost: np.ndarray,
    bounds: np.ndarray,
    A_ub: Sparse | None = None,
    b_ub: np.ndarray | None = None,
    A_eq: Sparse | None = None,
    b_eq: np.ndarray | None = None,
) -> OptimizeResult:
    """Minimise ``cost @ x`` with HiGHS; constraint blocks without rows are left out (scipy rejects them)."""
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
    )
