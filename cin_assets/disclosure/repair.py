"""The suppressor's repairs: for each cell the attack could not certify, a deviation LP over its
neighbourhood frees published cells around it, requires the failing cell to reach its target and
minimises the weighted deviation of the freed cells from their true values. The cells that move form the
cheapest cycle (a rectangle in a two-way table) that protects it; suppressing exactly those makes that
point feasible for the attacker, which certifies the failing cell. Built on the suppressor's
shared state (``state.SuppressionState``), which it reads and extends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cin_assets.disclosure.attack import Failure, System
from cin_assets.disclosure.config import DisclosureError
from cin_assets.disclosure.lp import highs
from cin_assets.disclosure.state import SuppressionState

_TOL = 1e-6
_HUGE = 1e9  # stands for "no upper bound" so that no block of a batched LP is unbounded
_SLACK_COST = 1e9  # a repair that cannot reach its target pays this per unit short
_BLOCKS_PER_LP = 64  # local repair LPs stacked into one solve ...
_BLOCKS_PER_MILP = 8  # ... or mixed-integer ones (for cells integer reasoning pinned)
_MAX_LP_COLUMNS = 60_000  # ... up to about this many columns
_RADII = (2, 4, 8)  # neighbourhoods (in relations) a repair looks in, widening for cells it cannot fix
_MAX_NEAR = 3_000  # ... while a neighbourhood holds at most this many columns of the system


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
    at: int  # the failing cell's column among the moving ones

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

    def __init__(self, sup: Repair, system: System, last_resort: bool) -> None:
        cells = system.cells
        self.sup, self.system = sup, system
        self.truth = sup.m.value[cells].astype(float)
        allowed = sup.eligible[cells] | (sup.last_resort[cells] if last_resort else False)
        self.freeable = system.candidate | (allowed & ~sup.S[cells])
        self.unknown = ~system.candidate
        self.eq = _triplets(system.A_eq)
        self.ub = _triplets(system.A_ub)
        self.slack_ub = system.b_ub - system.A_ub @ self.truth
        # deviations within the published bounds, not the integer bounds the relations imply today: those
        # pin the very cells a repair must move, and freeing cells widens them
        self.lo = np.where(np.isinf(system.lo), -_HUGE, system.lo) - self.truth
        self.hi = np.minimum(system.hi, _HUGE) - self.truth

    def block(self, f: Failure, near: np.ndarray) -> _Block:
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
            at=int(pos_moving[f.column]),
        )


class Repair(SuppressionState):
    """The repair half of the suppressor (see module docstring)."""

    def repair(self, system: System, failures: list[Failure], widen: bool) -> None:
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
            for f, moved, delta, reached in self._local_repairs(
                system, todo, radius, step == len(_RADII) - 1
            ):
                cell = int(cells[f.column])
                tried_now.add(cell)
                if moved is None:
                    self.tried[cell] = step + 1
                else:
                    assert delta is not None and reached is not None  # a repair's point
                    added += self._apply(system, f, moved, delta, reached)
                    fixed.add(cell)
            pending = [f for f in pending if int(cells[f.column]) not in fixed]
        for f in pending:
            k = f.column
            if int(cells[k]) not in stubborn or (added and self._near(np.asarray(added))[cells[k]]):
                continue  # something just hidden near it may already do: attack it again first
            added += self._fallback_for(int(cells[k]))

    def _local_repairs(self, system: System, failures: list[Failure], radius: int, last_resort: bool):
        """One deviation LP per failing cell, many stacked block-diagonally into one solve.

        A block works in deviations from the true values over the cell's neighbourhood (cells within
        ``radius`` relations); everything outside stays at its true value, which only restricts the
        LP, so a repair it finds is feasible for the whole year. Unknowns move within their bounds; the
        cells that may be hidden (published local-authority candidates, regional counts and, with
        ``last_resort``, England totals at a higher weight) move through p - q at cost weight * (p + q)
        (a hidden count stays >= 1); the failing cell must reach its target, through a slack so costly
        that it is only used when no repair exists. Yields (failure, hidden columns or None, deviations
        of those columns, the failing cell's deviation)."""
        ctx = _RepairContext(self, system, last_resort)
        for integral in (False, True):
            batch: list[tuple[Failure, _Block]] = []
            size = 0
            per_lp = _BLOCKS_PER_MILP if integral else _BLOCKS_PER_LP
            for f in failures:
                if self.whole_number(f, system) != integral:
                    continue
                near = self._near(system.cells[[f.column]], radius)[system.cells]
                if radius > _RADII[0] and near.sum() > _MAX_NEAR:
                    yield f, None, None, None  # too wide to solve often: the fallback takes it from here
                    continue
                block = ctx.block(f, near)
                batch.append((f, block))
                size += block.columns
                if len(batch) >= per_lp or size >= _MAX_LP_COLUMNS:
                    yield from self._solve_blocks(batch, integral)
                    batch, size = [], 0
            if batch:
                yield from self._solve_blocks(batch, integral)

    def whole_number(self, f: Failure, system: System) -> bool:
        """A cell integer reasoning pins, or one a fractional repair point did not protect, is repaired
        with whole-number deviations: an integer point feasible once the moved cells are hidden is one
        no attacker can rule out, so it certifies for good."""
        return f.integral or int(system.cells[f.column]) in self.relaxed

    def _solve_blocks(self, batch: list[tuple[Failure, _Block]], integral: bool = False):
        """Solve a batch of blocks as one block-diagonal LP, assembled from their triplets.

        ``integral``: the cells integer interval reasoning pinned, whatever fractional point an LP
        found; their deviations are whole numbers (a mixed-integer programme), so the point found is one
        an attacker reasoning on integers cannot rule out. A batch the solver cannot finish within its node
        limit goes to the fallback."""
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
        # every deviation whole, the target slack (the last column of each block) fractional
        integrality = (
            np.concatenate([np.r_[np.ones(b.columns - 1), 0.0] for b in blocks]) if integral else None
        )
        res = highs(
            np.concatenate([b.cost for b in blocks]),
            np.vstack([b.bounds for b in blocks]),
            A_ub=stack("ub", ub_at),
            b_ub=np.concatenate([b.b_ub for b in blocks]),
            A_eq=A_eq,
            b_eq=np.zeros(int(eq_at[-1])),  # A_eq's rows
            integrality=integrality,
        )
        if integral and res.x is None:
            for f, _ in batch:
                yield f, None, None, None
            return
        if res.status != 0 and not integral:  # a mixed-integer batch's incumbent is a valid point
            raise DisclosureError(f"repair LP failed ({res.message}); the model is inconsistent")
        for (f, b), at in zip(batch, col_at[:-1], strict=True):
            x = res.x[at : at + b.columns]
            k = b.free.size
            p, q, slack = x[b.moving : b.moving + k], x[b.moving + k : -1], x[-1]
            if slack > _TOL:
                yield f, None, None, None
            else:
                moved = (p + q) > _TOL
                yield f, b.free[moved], (p - q)[moved], float(x[b.at])

    def _near(self, cells: np.ndarray, radius: int = 2) -> np.ndarray:
        """Cells within ``radius`` relations of ``cells`` (a rectangle's far corner is two away)."""
        reach = np.zeros(self.m.n)
        reach[cells] = 1.0
        for _ in range(radius):
            reach = (self.incidence_t @ (self.incidence @ reach) > 0).astype(float)
        return reach > 0

    def _apply(
        self, system: System, f: Failure, moved: np.ndarray, delta: np.ndarray, reached: float
    ) -> list[int]:
        """Hide the cells a repair moved; its point is feasible once they are hidden, so it certifies the
        repaired cell (at its deviation ``reached``) and every new secondary it moves by a whole unit.
        A fractional point certifies provisionally (``SuppressionState.provisional``): the attack, which
        keeps within the integer bounds, checks its cells again."""
        cell = int(system.cells[f.column])
        fractional = not self.whole_number(f, system)
        hidden = [int(system.cells[j]) for j in moved if not self.S[system.cells[j]]]
        for c in hidden:
            self.add(c, cell, self.relation_between(cell, c))
            self.england_hidden[c] = self.last_resort[c]
        truth = self.m.value.astype(float)
        self._certify(np.array([cell]), np.array([truth[cell] + reached]))
        whole = system.cells[moved[np.abs(delta) >= 1 - _TOL]]
        self._certify(whole, truth[whole] + delta[np.abs(delta) >= 1 - _TOL])
        if fractional:
            self.relaxed.add(cell)
            self.provisional[[cell, *whole]] = True
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

    def _linked(self, cell: int) -> np.ndarray:
        """Relations (equations, then inequalities numbered after them) holding ``cell``."""
        L_T = self.L_T
        return np.r_[
            self.relations_of(cell), self.A.shape[0] + L_T.indices[L_T.indptr[cell] : L_T.indptr[cell + 1]]
        ]

    def _linked_members(self, r: int) -> np.ndarray:
        if r < self.A.shape[0]:
            return self.members(r)
        i = r - self.A.shape[0]
        return self.L.indices[self.L.indptr[i] : self.L.indptr[i + 1]]

    def _linked_label(self, r: int) -> str:
        n = self.A.shape[0]
        return self.m.relation_labels[r] if r < n else self.m.inequality_labels[r - n]

    def _fallback(self, k: int, allowed: np.ndarray) -> tuple[int, str] | None:
        """The cheapest ``allowed`` cell in ``k``'s relations (inequalities too), else one relation further
        out, and so on."""
        seen: set[int] = set()
        frontier = {int(r) for r in self._linked(k)}
        while frontier:
            options = []
            for r in sorted(frontier):
                best = self.cheapest(self._linked_members(r), r, allowed)
                if best is not None:
                    options.append((self.cost_key(best, r), self._linked_label(r)))
            if options:
                key, label = min(options)
                return key[2], label
            seen |= frontier
            frontier = {
                int(r) for r0 in frontier for c in self._linked_members(r0) for r in self._linked(c)
            } - seen
        return None
