"""The state a suppression run shares between its halves: the pattern being built (which cells are
hidden, why, which are certified safe), the model's arrays the attack and the repair read, and the small
helpers both use to add a cell and to price candidates. ``suppress._Suppressor`` combines the attack
(``attack.Attack``) and the repair (``repair.Repair``), both built on this class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from cin_assets.disclosure.model import Model

_LEVEL_WEIGHT = (1.0, 1e2, 1e4)  # LA, regional, national
_LAST_RESORT_WEIGHT = 1e3  # an England total costs this much more than any other national cell


class SuppressionState:
    """The pattern being built and the model arrays both halves of the suppressor read."""

    def __init__(self, model: Model, initial: np.ndarray) -> None:
        self.m = model
        self.cfg = model.config
        n = model.n
        self.S = initial.copy()
        self.primary = model.primary
        self.reason_cell = np.full(n, -1, dtype=np.int64)
        self.reason_relation: list[str | None] = [None] * n
        self.eligible = model.eligible
        self.pub_lo, self.pub_hi = model.published_bounds()
        self.A: Any = model.relations.tocsr()  # scipy.sparse is untyped (its shapes read as Optional)
        self.L: Any = model.inequalities.tocsr()
        self.L_T = self.L.T.tocsr()
        self.AT = self.A.T.tocsr()
        coo = self.A.tocoo()
        order = np.lexsort((coo.col, coo.row))
        self.e_rel, self.e_cell, self.e_coef = coo.row[order], coo.col[order], coo.data[order].astype(float)
        self.nsupp = np.zeros(self.A.shape[0], dtype=np.int64)  # suppressed members per relation
        self.nslack = np.zeros(self.A.shape[0], dtype=np.int64)  # ... that are above the threshold
        self.certified = np.zeros(n, dtype=bool)
        # the value of the feasible point that certified each cell: a certificate holds while that value is
        # within the integer bounds the relations imply (an LP point may be fractional)
        self.cert_value = np.full(n, np.nan)
        # certified by a fractional repair point (which integer reasoning may rule out): attacked again
        # next round; ``relaxed`` cells have had such a repair, so one failing again gets a whole-number one
        self.provisional = np.zeros(n, dtype=bool)
        self.relaxed: set[int] = set()
        self.england_hidden = np.zeros(n, dtype=bool)
        self.failed_before: set[int] = set()
        self.tried: dict[int, int] = {}  # cell -> how many of ``_RADII`` a repair has failed in
        self.last_resort = model.available & (model.value > model.config.threshold) & model.england_total
        # neighbourhoods reach through declared inequalities too: raising a count may need the count
        # bounding it (children by episodes) to rise with it
        self.incidence = sp.vstack([self.A != 0, self.L != 0]).astype(float).tocsr()
        self.incidence_t = self.incidence.T.tocsr()
        self.stats: dict[str, float | int] = {"lp_solves": 0, "lp_rounds": 0, "largest_component": 0}
        ratios = model.ratios
        self.r_num, self.r_den, self.r_const = ratios.num_cell, ratios.den_cell, ratios.den_value
        self.r_scale, self.r_tenths = ratios.scale.astype(float), ratios.tenths.astype(float)
        # a suppressed count hides every copy of it and every percentage/rate computed from it
        hidden = np.maximum(model.occurrence_count, 1) + model.dependents
        level = np.asarray(_LEVEL_WEIGHT)[model.level]
        self.base_cost = model.value.astype(float) * hidden
        # deviation weight per unit: short cycles through few files, mildly favouring small counts
        self.weight = hidden * level * (1 + np.log1p(model.value.astype(float)) / 10)
        self.weight[self.last_resort] *= _LAST_RESORT_WEIGHT

    # ----------------------------------------------------------------- helpers
    def add(self, cell: int, because: int, relation: str) -> None:
        if self.S[cell]:
            return
        self.S[cell] = True
        self.reason_cell[cell] = because
        self.reason_relation[cell] = relation
        rels = self.relations_of(cell)
        self.nsupp[rels] += 1
        if self.m.value[cell] > self.cfg.threshold:
            self.nslack[rels] += 1

    def _certify(self, cells: np.ndarray, values: np.ndarray) -> None:
        """Mark ``cells`` safe, certified by a feasible point where they take ``values``."""
        self.certified[cells] = True
        self.cert_value[cells] = values

    def relations_of(self, cell: int) -> np.ndarray:
        return self.AT.indices[self.AT.indptr[cell] : self.AT.indptr[cell + 1]]

    def members(self, relation: int) -> np.ndarray:
        return self.A.indices[self.A.indptr[relation] : self.A.indptr[relation + 1]]

    def cost_key(self, cell: int, relation: int) -> tuple[int, float, int]:
        """Level first, then count x files, halved when the cell already shares another relation with a
        suppressed cell that has slack to give (closing a rectangle rather than starting a chain)."""
        closes = any(r != relation and self.nslack[r] > 0 for r in self.relations_of(cell))
        return (int(self.m.level[cell]), self.base_cost[cell] * (0.5 if closes else 1.0), cell)

    def cheapest(
        self, candidates: np.ndarray, relation: int, allowed: np.ndarray | None = None
    ) -> int | None:
        allowed = self.eligible if allowed is None else allowed
        candidates = candidates[allowed[candidates] & ~self.S[candidates]]
        if candidates.size == 0:
            return None
        return min(self.cost_key(int(c), relation) for c in candidates)[2]

    def relation_between(self, k: int, cell: int) -> str:
        """Label of a relation holding ``cell`` and ``k``, else ``cell`` and some suppressed cell."""
        mine = set(self.relations_of(k).tolist())
        theirs = self.relations_of(cell)
        for r in theirs:
            if int(r) in mine:
                return self.m.relation_labels[r]
        for r in theirs:
            if self.nsupp[r] > 0:
                return self.m.relation_labels[r] + " (a cycle of sums around it)"
        return "linked relations"
