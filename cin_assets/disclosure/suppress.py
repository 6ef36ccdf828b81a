"""Primary and secondary cell suppression over a whole release year at once.

Every count 1..threshold is a primary. Secondaries are then added until an attacker who knows every
published figure cannot pin any suppressed cell: for each suppressed cell the linear programme
``max x_k`` subject to every relation of the year (sums within rows, across rows, up the geography
hierarchy, linked cells shared, England/regional counts only known to their rounding interval, published
England/regional percentages and rates as interval constraints, every suppressed cell >= 1) must reach at
least ``protection`` (so a small count is never provably small), and the cell must not be exactly
determined (its integer interval must hold two values).

Three steps, all deterministic:

1. *Single relations* (vectorised): the interval each relation alone gives every suppressed member is a
   relaxation of the full attack, so a cell it pins is pinned. Each such relation gets the cheapest
   member that frees it. This closes lone suppressions and small groups (two primaries summing to <= 5).
2. *Attack*: the unknowns split into independent components. Joint LPs certify most cells at once: any
   feasible point where a primary reaches ``protection`` or a secondary moves at least 1 off its true
   value proves that cell safe (the truth is feasible too). Only what they cannot certify gets its own
   LPs, batched one cell per component. Suppressing a cell only relaxes the attacker's system (a
   constant becomes an unknown whose range holds its old value; the ratios computed from it go), so a
   certificate never expires and each round only attacks cells not yet certified.
3. *Repair*: for each failing cell, a deviation LP frees the published local-authority cells around
   it, requires the failing cell to reach its target, and minimises the weighted deviation of the freed
   cells from their true values. The cells that move form the cheapest cycle (a rectangle in a
   two-way table) that protects it; suppressing exactly those makes that point feasible for the
   attacker, which certifies the failing cell.

England totals are never chosen, with one exception: when nothing else is left to hide around a cell that
is still recoverable (say a column of 1s at small scale whose England total is published), the England
total is hidden as a last resort and the report says so. A repair offers England totals only in its widest
neighbourhood: a narrow one may reach the England total yet miss the other regions' local authorities that
let a regional total give way instead (a region whose percentage pins it, every LA in it a small count).

Costs: local authority cells before regional before national ones; the number of published cells a
suppression hides (the cell in every file it appears in, plus the percentages and rates computed from
it); then the count (smaller first); ties by cell key. Zeros, unavailable and not-applicable cells
are never candidates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from cin_assets.disclosure.config import DisclosureError
from cin_assets.disclosure.lp import colour_classes, highs, waves
from cin_assets.disclosure.model import Model

_TOL = 1e-6
_HUGE = 1e9  # stands for "no upper bound" so that no block of a batched LP is unbounded
_WORTHWHILE = 0.25  # another joint push is worth it while the last one certified this share
_LEVEL_WEIGHT = (1.0, 1e2, 1e4)  # LA, regional, national
_SLACK_COST = 1e9  # a repair that cannot reach its target pays this per unit short
_LAST_RESORT_WEIGHT = 1e3  # an England total costs this much more than any other national cell
_BLOCKS_PER_LP = 64  # local repair LPs stacked into one solve ...
_MAX_LP_COLUMNS = 60_000  # ... up to about this many columns
_RADII = (2, 4, 8)  # neighbourhoods (in relations) a repair looks in, widening for cells it cannot fix
_MAX_WAVES = 12  # own-LP waves per round; cells left over are repaired unconfirmed (and so certified)
_FEW_WAVES = 4  # a round needing at most this many own-LP waves skips the joint pushes


@dataclass
class Pattern:
    """The suppression pattern of a year: which cells are suppressed and why."""

    suppressed: np.ndarray
    primary: np.ndarray
    reason_cell: np.ndarray  # secondary -> the cell it was added to protect (-1 otherwise)
    reason_relation: list[str | None]  # secondary -> the relation it was added in
    england_hidden: np.ndarray  # England totals hidden as a last resort (nothing else could protect)
    stats: dict[str, float | int] = field(default_factory=dict)

    @property
    def secondary(self) -> np.ndarray:
        return self.suppressed & ~self.primary

    def root(self, cell: int) -> int:
        """The primary a chain of secondaries ultimately protects."""
        seen = set()
        while not self.primary[cell] and self.reason_cell[cell] >= 0 and cell not in seen:
            seen.add(cell)
            cell = int(self.reason_cell[cell])
        return cell


@dataclass(frozen=True)
class _System:
    """An attack LP over some components: A_eq x = b_eq, A_ub x <= b_ub, lo <= x <= hi. Columns are
    unknowns, then candidates riding along fixed at their true values (one column per candidate and
    component); ``cells`` maps columns to cells."""

    A_eq: sp.csr_matrix
    b_eq: np.ndarray
    A_ub: sp.csr_matrix
    b_ub: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    cells: np.ndarray
    candidate: np.ndarray  # column is a fixed candidate
    comp: np.ndarray  # component of each column (-1 for candidates)
    eq_comp: np.ndarray  # component of each equality row (-1: only candidates and constants)
    ub_comp: np.ndarray  # component of each inequality row (-1: only candidates and constants)
    ub_ratio: np.ndarray  # inequality row is a published ratio (its counts hidden, it is hidden too)
    ub_fixed: np.ndarray  # b_ub with every candidate at its value moved to the right-hand side
    wanted: np.ndarray  # components holding suppressed cells not yet certified
    b_fixed: np.ndarray  # b_eq with every candidate at its value moved to the right-hand side


@dataclass(frozen=True)
class _Failure:
    column: int  # of the failing cell in the system
    sense: float  # -1: its maximum is too low, +1: its minimum is too high (pinned from below)
    target: float  # the bound the repair must let it reach


@dataclass(frozen=True)
class _Block:
    """One failing cell's local deviation LP: columns are deltas of the moving unknowns, p and q of the
    freeable cells, then the target slack. Constraints as (row, column, value) triplets in the block's
    own numbering, so that a batch is stacked by offsetting them (no sparse slicing per block)."""

    eq: tuple[np.ndarray, np.ndarray, np.ndarray]
    n_eq: int
    ub: tuple[np.ndarray, np.ndarray, np.ndarray]
    b_ub: np.ndarray
    cost: np.ndarray
    bounds: np.ndarray
    moving: int
    free: np.ndarray

    @property
    def columns(self) -> int:
        return self.moving + 2 * self.free.size + 1


def _triplets(A: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coo = A.tocoo()
    return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(float)


class _RepairContext:
    """What every local repair block of one pass shares (deviation coordinates of the system).

    England totals are freeable (at a prohibitive weight) only with ``last_resort``: the repair offers
    them at its widest neighbourhood alone, so a narrow neighbourhood that merely lacks the regional
    cells able to give way never settles for an England total."""

    def __init__(self, sup: _Suppressor, system: _System, last_resort: bool) -> None:
        cells = system.cells
        self.sup, self.system = sup, system
        self.truth = sup.m.value[cells].astype(float)
        allowed = sup.eligible[cells] | (sup.last_resort[cells] if last_resort else False)
        self.freeable = system.candidate | (allowed & ~sup.S[cells])
        self.unknown = ~system.candidate
        self.eq = _triplets(system.A_eq)
        self.ub = _triplets(system.A_ub)
        self.slack_ub = system.b_ub - system.A_ub @ self.truth
        self.lo = np.where(np.isinf(system.lo), -_HUGE, system.lo) - self.truth
        self.hi = np.minimum(system.hi, _HUGE) - self.truth

    def block(self, f: _Failure, near: np.ndarray) -> _Block:
        local = np.flatnonzero(near)
        moving, free = local[self.unknown[local]], local[self.freeable[local]]
        m, k = moving.size, free.size
        pos_moving = np.full(near.size, -1, dtype=np.int64)
        pos_moving[moving] = np.arange(m)
        pos_free = np.full(near.size, -1, dtype=np.int64)
        pos_free[free] = np.arange(k)
        # columns outside the neighbourhood stay at their true values (deviation 0): drop their entries
        row, col, val = (a[near[self.eq[1]]] for a in self.eq)
        rows, row = np.unique(row, return_inverse=True)
        mv, fr = pos_moving[col] >= 0, pos_free[col] >= 0
        eq = (
            np.concatenate([row[mv], row[fr], row[fr]]),
            np.concatenate([pos_moving[col[mv]], m + pos_free[col[fr]], m + k + pos_free[col[fr]]]),
            np.concatenate([val[mv], val[fr], -val[fr]]),
        )
        # a hidden count's percentages and rates are hidden with it, so p and q stay out of the ratio
        # rows (which keep holding for its published part: a restriction, so still valid)
        # declared inequalities hold for every count, hidden or not: p and q join those rows
        u_row, u_col, u_val = (a[near[self.ub[1]]] for a in self.ub)
        declared = ~self.system.ub_ratio[u_row]
        ub_rows, u_row = np.unique(u_row, return_inverse=True)
        keep = pos_moving[u_col] >= 0
        fr = declared & (pos_free[u_col] >= 0)
        # sense -1: delta_k + slack >= target - truth; +1: delta_k - slack <= target - truth
        n_ub = ub_rows.size
        ub = (
            np.r_[u_row[keep], u_row[fr], u_row[fr], n_ub, n_ub],
            np.r_[
                pos_moving[u_col[keep]],
                m + pos_free[u_col[fr]],
                m + k + pos_free[u_col[fr]],
                pos_moving[f.column],
                m + 2 * k,
            ],
            np.r_[u_val[keep], u_val[fr], -u_val[fr], f.sense, -1.0],
        )
        w = self.sup.weight[self.system.cells[free]]
        truth = self.truth
        return _Block(
            eq=eq,
            n_eq=rows.size,
            ub=ub,
            b_ub=np.r_[self.slack_ub[ub_rows], f.sense * (f.target - truth[f.column])],
            cost=np.r_[np.zeros(m), w, w, _SLACK_COST],
            bounds=np.vstack(
                [
                    np.column_stack([self.lo[moving], self.hi[moving]]),
                    np.column_stack([np.zeros(k), np.full(k, _HUGE)]),
                    # hidden, a count is >= 1 whatever published range it had
                    np.column_stack([np.zeros(k), np.maximum(truth[free] + self.lo[free] - 1, 0)]),
                    [[0.0, np.inf]],
                ]
            ),
            moving=m,
            free=free,
        )


class _Suppressor:
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
        self.A = model.relations.tocsr()
        self.L = model.inequalities.tocsr()
        self.AT = self.A.T.tocsr()
        coo = self.A.tocoo()
        order = np.lexsort((coo.col, coo.row))
        self.e_rel, self.e_cell, self.e_coef = coo.row[order], coo.col[order], coo.data[order].astype(float)
        self.nsupp = np.zeros(self.A.shape[0], dtype=np.int64)  # suppressed members per relation
        self.nslack = np.zeros(self.A.shape[0], dtype=np.int64)  # ... that are above the threshold
        self.certified = np.zeros(n, dtype=bool)
        self.england_hidden = np.zeros(n, dtype=bool)
        self.failed_before: set[int] = set()
        self.tried: dict[int, int] = {}  # cell -> how many of ``_RADII`` a repair has failed in
        self.last_resort = model.available & (model.value > model.config.threshold) & model.england_total
        self.incidence = (self.A != 0).astype(float).tocsr()
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

    # ------------------------------------------------------- single relations
    @staticmethod
    def _member_bounds(rel: np.ndarray, coef: np.ndarray, lo: np.ndarray, hi: np.ndarray, nrel: int):
        """For every entry, the interval its relation alone implies for the entry's cell."""
        t_lo = np.where(coef > 0, coef * lo, coef * hi)
        t_hi = np.where(coef > 0, coef * hi, coef * lo)
        lo_inf, hi_inf = np.isneginf(t_lo), np.isposinf(t_hi)
        l_fin = np.bincount(rel, np.where(lo_inf, 0.0, t_lo), nrel)
        u_fin = np.bincount(rel, np.where(hi_inf, 0.0, t_hi), nrel)
        l_n, u_n = np.bincount(rel, lo_inf, nrel), np.bincount(rel, hi_inf, nrel)
        rest_lo = np.where(l_n[rel] - lo_inf > 0, -np.inf, l_fin[rel] - np.where(lo_inf, 0.0, t_lo))
        rest_hi = np.where(u_n[rel] - hi_inf > 0, np.inf, u_fin[rel] - np.where(hi_inf, 0.0, t_hi))
        with np.errstate(invalid="ignore"):  # coef * x = -rest
            a, b = -rest_hi / coef, -rest_lo / coef
        return np.minimum(a, b), np.maximum(a, b)

    def _unsafe_entries(self, lo_x: np.ndarray, hi_x: np.ndarray) -> np.ndarray:
        up = np.floor(hi_x + _TOL)
        low = np.ceil(np.maximum(lo_x, 1.0) - _TOL)
        return (up < self.cfg.protection) | (up - low < 1)

    def unsafe_relations(self) -> np.ndarray:
        lo = np.where(self.S, 1.0, self.pub_lo)
        hi = np.where(self.S, np.inf, self.pub_hi)
        nrel = self.A.shape[0]
        lo_x, hi_x = self._member_bounds(self.e_rel, self.e_coef, lo[self.e_cell], hi[self.e_cell], nrel)
        return np.unique(self.e_rel[self.S[self.e_cell] & self._unsafe_entries(lo_x, hi_x)])

    def relation_unsafe_members(self, r: int, extra: np.ndarray | None = None) -> np.ndarray:
        """Suppressed members relation ``r`` alone pins (with ``extra`` cells suppressed as well)."""
        cells = self.members(r)
        coef = self.A.data[self.A.indptr[r] : self.A.indptr[r + 1]].astype(float)
        supp = self.S[cells].copy()
        if extra is not None:
            supp |= np.isin(cells, extra)
        lo = np.where(supp, 1.0, self.pub_lo[cells])
        hi = np.where(supp, np.inf, self.pub_hi[cells])
        lo_x, hi_x = self._member_bounds(np.zeros(cells.size, dtype=np.int64), coef, lo, hi, 1)
        return cells[supp & self._unsafe_entries(lo_x, hi_x)]

    def single_relation_pass(self) -> int:
        added = 0
        stuck: set[int] = set()
        while True:
            progress = False
            for r in self.unsafe_relations():
                r = int(r)
                unsafe = self.relation_unsafe_members(r)
                if r in stuck or unsafe.size == 0:
                    continue
                members = self.members(r)
                pool = members[self.eligible[members] & ~self.S[members]]
                if pool.size == 0:
                    stuck.add(r)
                    continue
                enough = np.array([self.relation_unsafe_members(r, np.array([c])).size == 0 for c in pool])
                choice = self.cheapest(pool[enough] if enough.any() else pool, r)
                primaries = unsafe[self.primary[unsafe]]
                because = int(primaries[0] if primaries.size else unsafe[0])
                self.add(int(choice), because, self.m.relation_labels[r])
                added += 1
                progress = True
            if not progress:
                return added

    # ------------------------------------------------------------ full attack
    def lp_system(self):
        """Unknowns (suppressed cells and nonzero rounded published cells) and their constraints."""
        m, S = self.m, self.S
        var = S | (m.rounded & m.available & (m.value > 0))
        lo = np.where(S, 1.0, self.pub_lo)
        hi = np.where(S, np.inf, self.pub_hi)
        const_value = np.where(var, 0.0, m.value.astype(float))
        b_eq = -(self.A @ const_value)
        eq_rows = np.flatnonzero(np.asarray((self.A[:, np.flatnonzero(var)] != 0).sum(axis=1)).ravel() > 0)
        # ratios are in force while both their counts are published
        active = ~S[self.r_num] & ((self.r_den < 0) | ~S[np.maximum(self.r_den, 0)])
        for i in np.flatnonzero(active & (self.r_den < 0) & var[self.r_num]):
            k, d, s = self.r_num[i], self.r_const[i], 10 * self.r_scale[i]
            lo[k] = max(lo[k], (self.r_tenths[i] - 0.5) * d / s)
            hi[k] = min(hi[k], (self.r_tenths[i] + 0.5) * d / s)
        cell_den = active & (self.r_den >= 0)
        ratio_rows = np.flatnonzero(cell_den & (var[self.r_num] | var[np.maximum(self.r_den, 0)]))
        return var, lo, hi, const_value, b_eq, eq_rows, ratio_rows

    def _ratio_rows(self, ratio_rows, var, pos, const_value, nvar):
        """Ratio constraints as inequality rows:
        10*scale*num - (t+0.5)*den <= 0 and (t-0.5)*den - 10*scale*num <= 0."""
        num, den = self.r_num[ratio_rows], self.r_den[ratio_rows]
        s, t = 10 * self.r_scale[ratio_rows], self.r_tenths[ratio_rows]
        k = ratio_rows.size
        row = np.concatenate([2 * np.arange(k), 2 * np.arange(k) + 1, 2 * np.arange(k), 2 * np.arange(k) + 1])
        cell = np.concatenate([num, num, den, den])
        coef = np.concatenate([s, -s, -(t + 0.5), t - 0.5])
        is_var = var[cell]
        rhs = np.bincount(row[~is_var], -coef[~is_var] * const_value[cell[~is_var]], 2 * k)
        A_ub = sp.csr_matrix((coef[is_var], (row[is_var], pos[cell[is_var]])), shape=(2 * k, nvar))
        return A_ub, rhs

    def system(self) -> _System | None:
        """The attack LP over every unknown of the year (rounded published cells and suppressed ones),
        with the eligible published cells next to the components still to certify riding along as
        candidates fixed at their values; its rows are every relation touching an unknown or a
        candidate, so a repair that moves candidates sees every sum they are in."""
        m = self.m
        var, lo, hi, const_value, _, eq_rows, ratio_rows = self.lp_system()
        var_idx = np.flatnonzero(var)
        pos = np.full(m.n, -1, dtype=np.int64)
        pos[var_idx] = np.arange(var_idx.size)
        A_var = self.A[eq_rows][:, var_idx].tocsr()
        A_ub, b_ub = self._ratio_rows(ratio_rows, var, pos, const_value, var_idx.size)
        L_var_rows = np.flatnonzero(np.diff(self.L[:, var_idx].tocsr().indptr) > 0)
        L_var = self.L[L_var_rows][:, var_idx]
        inc = sp.vstack([A_var != 0, A_ub != 0, L_var != 0]).astype(np.int8).tocsr()
        nc = inc.shape[0]
        _, labels = connected_components(sp.bmat([[None, inc], [inc.T, None]], format="csr"), directed=False)
        var_comp, con_comp = labels[nc:], labels[:nc]
        wanted = np.unique(var_comp[self.S[var_idx] & ~self.certified[var_idx]])
        if wanted.size == 0:
            return None
        sizes = np.bincount(var_comp)[wanted]
        self.stats["largest_component"] = max(int(self.stats["largest_component"]), int(sizes.max()))
        # candidates: eligible published cells in the relations of the components to certify
        touching = self.A[eq_rows[np.isin(con_comp[: eq_rows.size], wanted)]]
        near = np.zeros(m.n, dtype=bool)
        near[touching.indices] = True
        cand = np.flatnonzero(near & self.eligible & ~var)
        # rows: relations with an unknown, then relations with only candidates and constants
        has_cand = np.asarray((self.A[:, cand] != 0).sum(axis=1)).ravel() > 0
        extra_rows = np.setdiff1d(np.flatnonzero(has_cand), eq_rows)
        rows = np.r_[eq_rows, extra_rows]
        cols = np.r_[var_idx, cand]
        A_eq = self.A[rows][:, cols].tocsr().astype(float)
        cand_value = m.value[cand].astype(float)
        b_all = -(self.A[rows] @ const_value) + self.A[rows][:, cand] @ cand_value
        # declared inequalities: those with an unknown, then those with only candidates and constants
        L_cand_rows = np.flatnonzero(np.diff(self.L[:, cand].tocsr().indptr) > 0)
        L_rows = np.r_[L_var_rows, np.setdiff1d(L_cand_rows, L_var_rows)].astype(np.int64)
        L_sys = self.L[L_rows][:, cols].astype(float)
        L_cand = self.L[L_rows][:, cand] @ cand_value
        b_L = -(self.L[L_rows] @ const_value) + L_cand
        n_rat = A_ub.shape[0]
        return _System(
            A_eq=A_eq,
            b_eq=b_all,
            A_ub=sp.vstack([sp.hstack([A_ub, sp.csr_matrix((n_rat, cand.size))]), L_sys]).tocsr(),
            b_ub=np.r_[b_ub, b_L],
            lo=np.r_[lo[var_idx], cand_value],
            hi=np.r_[np.where(np.isinf(hi[var_idx]), _HUGE, hi[var_idx]), cand_value],
            cells=cols.astype(np.int64),
            candidate=np.r_[np.zeros(var_idx.size, dtype=bool), np.ones(cand.size, dtype=bool)],
            comp=np.r_[var_comp, np.full(cand.size, -1)].astype(np.int64),
            eq_comp=np.r_[con_comp[: eq_rows.size], np.full(extra_rows.size, -1)].astype(np.int64),
            ub_comp=np.r_[con_comp[eq_rows.size :], np.full(L_rows.size - L_var_rows.size, -1)].astype(
                np.int64
            ),
            ub_ratio=np.r_[np.ones(n_rat, dtype=bool), np.zeros(L_rows.size, dtype=bool)],
            ub_fixed=np.r_[b_ub, b_L - L_cand],
            wanted=wanted,
            b_fixed=b_all - self.A[rows][:, cand] @ cand_value,
        )

    def _solve(
        self, c, system: _System, lo, hi, comps: np.ndarray, extra=None, free=None
    ) -> np.ndarray | None:
        """Solve over components ``comps`` only (the others are independent while candidates stay
        fixed). With ``free`` candidates (a repair), every relation touching them joins, with the
        components those reach. ``extra`` = (columns of A_eq for new variables, their costs, their
        bounds). Returns x over the system's columns followed by the new ones, or None if infeasible."""
        self.stats["lp_solves"] += 1
        comps = np.asarray(comps)
        rows_eq = np.isin(system.eq_comp, comps)
        if free is not None and free.size:
            touched = np.asarray((system.A_eq[:, free] != 0).sum(axis=1)).ravel() > 0
            while True:
                rows_eq |= touched
                reached = np.unique(system.comp[system.A_eq[rows_eq].indices])
                reached = reached[reached >= 0]
                grown = np.union1d(comps, reached)
                if grown.size == comps.size:
                    break
                comps = grown
                rows_eq |= np.isin(system.eq_comp, comps)
        # candidates stay at their values (folded into the right-hand side); a repair moves free ones
        # through its extra deviation columns
        cols = np.flatnonzero(np.isin(system.comp, comps) & ~system.candidate)
        rows_ub = np.isin(system.ub_comp, comps)
        A_eq, b_eq = system.A_eq[rows_eq][:, cols], system.b_fixed[rows_eq]
        A_ub, b_ub = system.A_ub[rows_ub][:, cols], system.ub_fixed[rows_ub]
        cost, bounds = c[cols], np.column_stack([lo[cols], hi[cols]])
        k = 0
        if extra is not None:
            new_cols, new_cost, new_bounds = extra
            k = new_cost.size
            A_eq = sp.hstack([A_eq, new_cols[rows_eq]]).tocsr()
            A_ub = sp.hstack([A_ub, sp.csr_matrix((A_ub.shape[0], k))]).tocsr()
            cost, bounds = np.r_[cost, new_cost], np.vstack([bounds, new_bounds])
        res = highs(cost, bounds, A_ub, b_ub, A_eq, b_eq)
        if res.status == 2:
            return None
        if res.status != 0:
            raise DisclosureError(f"attack LP failed ({res.message}); the model is inconsistent")
        x = system.lo.copy()  # columns left out keep their (fixed or true) values
        x = np.r_[x, np.zeros(k)]
        x[cols] = res.x[: cols.size]
        x[system.lo.size :] = res.x[cols.size :]
        return x

    def attack(self, system: _System) -> list[_Failure]:
        """Certify what joint LPs can; own LPs for the rest; return the cells that are not safe."""
        lo, hi, n, comp = system.lo, system.hi, system.lo.size, system.comp
        cells = system.cells
        truth = self.m.value[cells].astype(float)
        primary = self.primary[cells] & ~system.candidate
        protection = self.cfg.protection
        need_up = np.where(primary, protection, truth + 1)
        targets = np.flatnonzero(~system.candidate & self.S[cells] & ~self.certified[cells])

        def certify(x: np.ndarray, among: np.ndarray) -> np.ndarray:
            """Mark cells of ``among`` the point ``x`` proves safe; return the others."""
            ok = np.where(
                primary[among], x[among] >= protection - _TOL, np.abs(x[among] - truth[among]) >= 1 - _TOL
            )
            self.certified[cells[among[ok]]] = True
            return among[~ok]

        def push(group: np.ndarray) -> np.ndarray:
            """Joint LPs pushing ``group`` up (capped), then its secondaries down."""
            self.stats["lp_rounds"] += 1
            c = np.zeros(n)
            c[group] = -1.0
            capped = hi.copy()
            capped[group] = np.minimum(hi[group], need_up[group])
            left = certify(self._solve(c, system, lo, capped, np.unique(comp[group])), group)
            down = left[~primary[left]]
            if down.size:
                c = np.zeros(n)
                c[down] = 1.0
                floor = lo.copy()
                floor[down] = np.maximum(lo[down], truth[down] - 1)
                left = np.union1d(
                    left[primary[left]],
                    certify(self._solve(c, system, floor, hi, np.unique(comp[down])), down),
                )
            return left

        remaining = targets
        # joint pushes pay off when many cells share a component; a few go straight to their own LPs
        many = remaining.size and np.bincount(comp[remaining]).max() > _FEW_WAVES
        while many and remaining.size:  # joint pushes while they pay off ...
            left = push(remaining)
            done, remaining = remaining.size - left.size, left
            if done < _WORTHWHILE * (remaining.size + done):
                break
        for group in colour_classes(remaining, system.A_eq) if many else []:  # ... then cells sharing
            if group.size > 1:  # no relation
                left = push(group)
                remaining = np.setdiff1d(remaining, np.setdiff1d(group, left))
        failures: list[_Failure] = []
        need_min = []
        batches = list(waves(remaining, comp))
        for wave in batches[_MAX_WAVES:]:  # too many to confirm one by one: repair them straight away
            failures += [_Failure(int(k), -1.0, float(need_up[k])) for k in wave]
        for i, wave in enumerate(batches[:_MAX_WAVES]):
            wave = wave[~self.certified[cells[wave]]]
            if wave.size == 0:
                continue
            comps = np.unique(comp[wave])
            c = np.zeros(n)
            c[wave] = -1.0
            x = self._solve(c, system, lo, hi, comps)
            # the optimum is a feasible point too: it may already prove later cells of its components safe
            later = np.concatenate(batches[i + 1 : _MAX_WAVES] or [np.zeros(0, dtype=np.int64)])
            certify(x, later[np.isin(comp[later], comps) & ~self.certified[cells[later]]])
            for k in wave:
                top = np.floor(x[k] + _TOL)
                if top >= protection and (top >= truth[k] + 1 or primary[k]):
                    self.certified[cells[k]] = True
                elif top >= protection:
                    need_min.append(k)
                else:
                    failures.append(_Failure(int(k), -1.0, float(need_up[k])))
        for wave in waves(np.asarray(need_min, dtype=np.int64), comp):
            c = np.zeros(n)
            c[wave] = 1.0
            x = self._solve(c, system, lo, hi, np.unique(comp[wave]))
            for k in wave:
                if np.ceil(x[k] - _TOL) <= truth[k] - 1:
                    self.certified[cells[k]] = True
                else:
                    failures.append(_Failure(int(k), 1.0, truth[k] - 1))
        return sorted(failures, key=lambda f: cells[f.column])

    # ----------------------------------------------------------------- repair
    def repair(self, system: _System, failures: list[_Failure], widen: bool) -> None:
        """Repair every failing cell with a local deviation LP (see ``_local_repairs``). Cells that
        failed the round before too (or every cell, with ``widen``) also look in wider neighbourhoods,
        then fall back to the cheapest cell of their relations; the others wait for the next attack
        (what was hidden around them this round may already do).

        A cell skips the neighbourhoods a repair already failed in: hiding more only relaxes the
        attacker's system, so what no repair could reach there stays out of reach."""
        cells = system.cells
        pending = sorted(failures, key=lambda f: cells[f.column])
        stubborn = {
            int(cells[f.column]) for f in pending if widen or int(cells[f.column]) in self.failed_before
        }
        self.failed_before = {int(cells[f.column]) for f in pending}
        added: list[int] = []
        tried_now: set[int] = set()
        for step, radius in enumerate(_RADII):
            todo = [
                f
                for f in pending
                if self.tried.get(int(cells[f.column]), 0) == step
                and (int(cells[f.column]) in stubborn or int(cells[f.column]) not in tried_now)
            ]
            if not todo:
                continue
            fixed = set()
            for f, moved, delta in self._local_repairs(system, todo, radius, step == len(_RADII) - 1):
                cell = int(cells[f.column])
                tried_now.add(cell)
                if moved is None:
                    self.tried[cell] = step + 1
                else:
                    added += self._apply(system, f, moved, delta)
                    fixed.add(cell)
            pending = [f for f in pending if int(cells[f.column]) not in fixed]
        for f in pending:
            k = f.column
            if int(cells[k]) not in stubborn or (added and self._near(np.asarray(added))[cells[k]]):
                continue  # something just hidden near it may already do: attack it again first
            added += self._fallback_for(int(cells[k]))

    def _local_repairs(self, system: _System, failures: list[_Failure], radius: int, last_resort: bool):
        """One deviation LP per failing cell, many stacked block-diagonally into one solve.

        A block works in deviations from the true values over the cell's neighbourhood (cells within
        ``radius`` relations); everything outside stays at its true value, which only restricts the
        LP, so a repair it finds is feasible for the whole year. Unknowns move within their bounds; the
        cells that may be hidden (published local-authority candidates, regional counts and, with
        ``last_resort``, England totals at a higher weight) move through p - q at cost weight * (p + q)
        (a hidden count stays >= 1); the failing cell must reach its target, through a slack so costly
        that it is only used when no repair exists. Yields (failure, hidden columns or None, deviations
        of those columns)."""
        ctx = _RepairContext(self, system, last_resort)
        batch: list[tuple[_Failure, _Block]] = []
        size = 0
        for f in failures:
            block = ctx.block(f, self._near(system.cells[[f.column]], radius)[system.cells])
            batch.append((f, block))
            size += block.columns
            if len(batch) >= _BLOCKS_PER_LP or size >= _MAX_LP_COLUMNS:
                yield from self._solve_blocks(batch)
                batch, size = [], 0
        if batch:
            yield from self._solve_blocks(batch)

    def _solve_blocks(self, batch: list[tuple[_Failure, _Block]]):
        """Solve a batch of blocks as one block-diagonal LP, assembled from their triplets."""
        blocks = [b for _, b in batch]
        self.stats["lp_solves"] += 1
        col_at = np.cumsum([0] + [b.columns for b in blocks])
        eq_at = np.cumsum([0] + [b.n_eq for b in blocks])
        ub_at = np.cumsum([0] + [b.b_ub.size for b in blocks])

        def stack(part: str, row_at: np.ndarray) -> sp.csr_matrix:
            trip = [getattr(b, part) for b in blocks]
            rows = np.concatenate([t[0] + row_at[i] for i, t in enumerate(trip)])
            cols = np.concatenate([t[1] + col_at[i] for i, t in enumerate(trip)])
            vals = np.concatenate([t[2] for t in trip])
            return sp.csr_matrix((vals, (rows, cols)), shape=(int(row_at[-1]), int(col_at[-1])))

        A_eq = stack("eq", eq_at)
        res = highs(
            np.concatenate([b.cost for b in blocks]),
            np.vstack([b.bounds for b in blocks]),
            A_ub=stack("ub", ub_at),
            b_ub=np.concatenate([b.b_ub for b in blocks]),
            A_eq=A_eq,
            b_eq=np.zeros(A_eq.shape[0]),
        )
        if res.status != 0:
            raise DisclosureError(f"repair LP failed ({res.message}); the model is inconsistent")
        for (f, b), at in zip(batch, col_at[:-1], strict=True):
            x = res.x[at : at + b.columns]
            k = b.free.size
            p, q, slack = x[b.moving : b.moving + k], x[b.moving + k : -1], x[-1]
            if slack > _TOL:
                yield f, None, None
            else:
                moved = (p + q) > _TOL
                yield f, b.free[moved], (p - q)[moved]

    def _near(self, cells: np.ndarray, radius: int = 2) -> np.ndarray:
        """Cells within ``radius`` relations of ``cells`` (a rectangle's far corner is two away)."""
        reach = np.zeros(self.m.n)
        reach[cells] = 1.0
        for _ in range(radius):
            reach = (self.incidence_t @ (self.incidence @ reach) > 0).astype(float)
        return reach > 0

    def _apply(self, system: _System, f: _Failure, moved: np.ndarray, delta: np.ndarray) -> list[int]:
        """Hide the cells a repair moved; its point is feasible once they are hidden, so it certifies the
        repaired cell and every new secondary it moves by a whole unit."""
        cell = int(system.cells[f.column])
        hidden = [int(system.cells[j]) for j in moved if not self.S[system.cells[j]]]
        for c in hidden:
            self.add(c, cell, self.relation_between(cell, c))
            self.england_hidden[c] = self.last_resort[c]
        self.certified[cell] = True
        self.certified[system.cells[moved[np.abs(delta) >= 1 - _TOL]]] = True
        return hidden

    def _fallback_for(self, cell: int) -> list[int]:
        """No repair near ``cell``: hide the cheapest cell of its relations (then further out); after a
        few tries, or if nothing else is left, an England total (last resort, reported)."""
        fallback = self._fallback(cell, self.eligible)
        if fallback is None:
            # nothing but England totals is left to hide (e.g. a column of 1s): rather than publish a
            # cell that can be worked out, hide the England total, and say so in the report
            fallback = self._fallback(cell, self.last_resort)
            if fallback is None:
                return []  # nothing left to hide around it; ``run`` stops if a round achieves nothing
            self.england_hidden[fallback[0]] = True
        self.add(fallback[0], cell, fallback[1])
        return [fallback[0]]

    def _fallback(self, k: int, allowed: np.ndarray) -> tuple[int, str] | None:
        """The cheapest ``allowed`` cell in ``k``'s relations, else one relation further out, and so on."""
        seen: set[int] = set()
        frontier = {int(r) for r in self.relations_of(k)}
        while frontier:
            options = []
            for r in sorted(frontier):
                best = self.cheapest(self.members(r), r, allowed)
                if best is not None:
                    options.append((self.cost_key(best, r), self.m.relation_labels[r]))
            if options:
                key, label = min(options)
                return key[2], label
            seen |= frontier
            frontier = {
                int(r) for r0 in frontier for c in self.members(r0) for r in self.relations_of(c)
            } - seen
        return None

    def run(self) -> None:
        started = time.perf_counter()
        self.S |= self.primary
        incidence = (self.A != 0).astype(np.int64)
        self.nsupp = np.asarray(incidence @ self.S.astype(np.int64)).ravel()
        slack = self.S & (self.m.value > self.cfg.threshold)
        self.nslack = np.asarray(incidence @ slack.astype(np.int64)).ravel()
        self.stats["single_relation_additions"] = self.single_relation_pass()
        rounds = idle = 0
        while (system := self.system()) is not None:
            rounds += 1
            failures = self.attack(system)
            if not failures:
                continue
            before = int(self.S.sum())
            self.repair(system, failures, widen=idle > 0)
            self.single_relation_pass()
            progress = (
                int(self.S.sum()) > before or self.certified[system.cells[[f.column for f in failures]]].any()
            )
            idle = 0 if progress else idle + 1
            if idle > 1:
                names = ", ".join(self.m.labels[int(system.cells[f.column])] for f in failures[:5])
                raise DisclosureError(f"cannot protect {names}: no cell left to suppress around them")
        self.stats["attack_rounds"] = rounds
        self.stats["seconds"] = round(time.perf_counter() - started, 3)


def suppress(model: Model, initial: np.ndarray | None = None) -> Pattern:
    """The suppression pattern of a year: primaries, plus secondaries until every suppressed cell is safe.

    ``initial`` (optional) cells to treat as already suppressed (a pattern that is already safe comes
    back unchanged: suppression is idempotent)."""
    start = np.zeros(model.n, dtype=bool) if initial is None else initial.astype(bool)
    worker = _Suppressor(model, start)
    worker.run()
    return Pattern(
        suppressed=worker.S,
        primary=model.primary,
        reason_cell=worker.reason_cell,
        reason_relation=worker.reason_relation,
        england_hidden=worker.england_hidden,
        stats={**worker.stats, "england_totals_hidden": int(worker.england_hidden.sum())},
    )
