"""Primary and secondary cell suppression over a whole release year at once.

Every count 1..threshold is a primary. Secondaries are then added until an attacker who knows every
published figure cannot pin any suppressed cell: for each suppressed cell the linear programme
``max x_k`` subject to every relation of the year (sums within rows, across rows, up the geography
hierarchy, linked cells shared, England/regional counts only known to their rounding interval, published
England/regional percentages and rates as interval constraints, every suppressed cell >= 1) must reach at
least ``protection`` (under the ``strict`` rule, 6: a small count is never provably small; under DfE's
rule, 1), and the cell must not be exactly determined (its integer interval must hold two values).

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
   attacker, which certifies the failing cell. A cell that integer interval reasoning pins (as the
   audit reasons) although an LP point reached its target is repaired with whole-number deviations (a
   small mixed-integer block): only an integer point shows such an attacker cannot rule the target out.

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

from cin_assets.disclosure.attack import Attack
from cin_assets.disclosure.config import DisclosureError
from cin_assets.disclosure.model import Model
from cin_assets.disclosure.repair import Repair

_TOL = 1e-6


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


class _Suppressor(Attack, Repair):
    """The attack and the repair over one shared state; the single-relation pass; the rounds."""

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
                assert choice is not None  # the pool holds eligible unsuppressed cells only
                primaries = unsafe[self.primary[unsafe]]
                because = int(primaries[0] if primaries.size else unsafe[0])
                self.add(int(choice), because, self.m.relation_labels[r])
                added += 1
                progress = True
            if not progress:
                return added

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
