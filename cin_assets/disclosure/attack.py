"""The suppressor's attacker: the linear programme over every unknown of the year (suppressed cells and
rounded published ones) with every relation of the model, and the joint and per-cell LPs that certify
suppressed cells safe or report them failing. Built on the suppressor's shared state (``state.SuppressionState``).

Any feasible point where a primary reaches ``protection`` or a secondary moves at least 1 off its true
value proves that cell safe (the truth is feasible too). Suppressing a cell only relaxes the attacker's
system, so a certificate never expires and each round only attacks cells not yet certified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from cin_assets.disclosure.config import DisclosureError
from cin_assets.disclosure.lp import colour_classes, highs, propagate, waves
from cin_assets.disclosure.state import SuppressionState

_TOL = 1e-6
_HUGE = 1e9  # stands for "no upper bound" so that no block of a batched LP is unbounded
_WORTHWHILE = 0.25  # another joint push is worth it while the last one certified this share
_MAX_WAVES = 12  # own-LP waves per round; cells left over are repaired unconfirmed (and so certified)
_FEW_WAVES = 4  # a round needing at most this many own-LP waves skips the joint pushes


@dataclass(frozen=True)
class System:
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
    int_lo: np.ndarray  # lo and hi within the integer bounds the relations imply (the attack's bounds)
    int_hi: np.ndarray


@dataclass(frozen=True)
class Failure:
    column: int  # of the failing cell in the system
    sense: float  # -1: its maximum is too low, +1: its minimum is too high (pinned from below)
    target: float  # the bound the repair must let it reach
    integral: bool = False  # integer reasoning pinned it: only a whole-number repair point certifies it


class Attack(SuppressionState):
    """The attack half of the suppressor (see module docstring)."""

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

    def _ratio_rows(self, ratio_rows, var, pos, const_value, nvar) -> tuple[Any, np.ndarray]:
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

    def system(self) -> System | None:
        """The attack LP over every unknown of the year (rounded published cells and suppressed ones),
        with the eligible published cells next to the components still to certify riding along as
        candidates fixed at their values; its rows are every relation touching an unknown or a
        candidate, so a repair that moves candidates sees every sum they are in."""
        m = self.m
        var, lo, hi, const_value, b_eq, eq_rows, ratio_rows = self.lp_system()
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
        # a repair certifies with a point of the LP relaxation: cells integer reasoning still pins are
        # attacked again (the audit reasons on integers too)
        p_lo, p_hi, moving = propagate(
            A_var,
            b_eq[eq_rows],
            sp.vstack([A_ub, L_var]),
            np.r_[b_ub, -(self.L[L_var_rows] @ const_value)],
            lo[var_idx],
            hi[var_idx],
        )
        hidden = self.S[var_idx]
        small = self.primary[var_idx] & (p_hi < self.cfg.protection)
        # a certificate outside the integer bounds was a fractional point integer reasoning rules out (the
        # audit combines its LP's interval with those bounds): attack the cell again
        value = self.cert_value[var_idx]
        outside = (value < p_lo - _TOL) | (value > p_hi + _TOL)
        # (and a cell whose integer bounds had not settled is not shown protected: the audit fails it)
        self.certified[var_idx[hidden & (small | (p_hi - p_lo < 1) | outside | moving)]] = False
        # a repair on the published bounds certified with a point of a wider system: its cells are attacked
        # again within the integer bounds, which every point of the attack LP keeps to
        self.certified[self.provisional] = False
        self.provisional[:] = False
        int_lo, int_hi = np.maximum(lo[var_idx], p_lo), np.minimum(hi[var_idx], p_hi)
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
        return System(
            A_eq=A_eq,
            b_eq=b_all,
            A_ub=sp.csr_matrix(sp.vstack([sp.hstack([A_ub, sp.csr_matrix((n_rat, cand.size))]), L_sys])),
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
            int_lo=np.r_[int_lo, cand_value],
            int_hi=np.r_[np.where(np.isinf(int_hi), _HUGE, int_hi), cand_value],
        )

    def _solve(self, c, system: System, lo, hi, comps: np.ndarray, extra=None, free=None) -> np.ndarray:
        """Solve over components ``comps`` only (the others are independent while candidates stay
        fixed). With ``free`` candidates (a repair), every relation touching them joins, with the
        components those reach. ``extra`` = (columns of A_eq for new variables, their costs, their
        bounds). Returns x over the system's columns followed by the new ones."""
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
        if res.status != 0:
            raise DisclosureError(f"attack LP failed ({res.message}); the model is inconsistent")
        x = system.lo.copy()  # columns left out keep their (fixed or true) values
        x = np.r_[x, np.zeros(k)]
        x[cols] = res.x[: cols.size]
        x[system.lo.size :] = res.x[cols.size :]
        return x

    def attack(self, system: System) -> list[Failure]:
        """Certify what joint LPs can; own LPs for the rest; return the cells that are not safe."""
        lo, hi, n, comp = system.int_lo, system.int_hi, system.lo.size, system.comp
        cells = system.cells
        truth = self.m.value[cells].astype(float)
        primary = self.primary[cells] & ~system.candidate
        protection = self.cfg.protection
        # a primary must reach ``protection`` and move off its value (protection 1 asks only the latter)
        need_up = np.where(primary, np.maximum(protection, truth + 1), truth + 1)
        pinned = self._pinned(system, primary, truth)
        targets = np.flatnonzero(~system.candidate & self.S[cells] & ~self.certified[cells])
        targets = np.setdiff1d(targets, [f.column for f in pinned])

        def certify(x: np.ndarray, among: np.ndarray) -> np.ndarray:
            """Mark cells of ``among`` the point ``x`` proves safe; return the others."""
            moved = np.abs(x[among] - truth[among]) >= 1 - _TOL
            ok = np.where(primary[among], (x[among] >= protection - _TOL) & moved, moved)
            self._certify(cells[among[ok]], x[among[ok]])
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
        failures: list[Failure] = []
        need_min = []
        batches = list(waves(remaining, comp))
        for wave in batches[_MAX_WAVES:]:  # too many to confirm one by one: repair them straight away
            failures += [Failure(int(k), -1.0, float(need_up[k])) for k in wave]
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
                if top >= protection and top >= truth[k] + 1:
                    self._certify(cells[[k]], x[[k]])
                elif top >= protection and truth[k] > 1:  # it may yet move down (cells are at least 1)
                    need_min.append(k)
                else:
                    failures.append(Failure(int(k), -1.0, float(need_up[k])))
        for wave in waves(np.asarray(need_min, dtype=np.int64), comp):
            c = np.zeros(n)
            c[wave] = 1.0
            x = self._solve(c, system, lo, hi, np.unique(comp[wave]))
            for k in wave:
                if np.ceil(x[k] - _TOL) <= truth[k] - 1:
                    self._certify(cells[[k]], x[[k]])
                else:
                    failures.append(Failure(int(k), 1.0, float(truth[k] - 1)))
        return sorted(failures + pinned, key=lambda f: cells[f.column])

    def _pinned(self, system: System, primary: np.ndarray, truth: np.ndarray) -> list[Failure]:
        """Suppressed cells integer interval reasoning proves small or exact (the audit reasons so too):
        an LP point certifying them was fractional, so they fail again whatever was certified."""
        unknown = np.flatnonzero(~system.candidate)
        p_lo, p_hi, _ = propagate(
            system.A_eq[:, unknown],
            system.b_fixed,
            system.A_ub[:, unknown],
            system.ub_fixed,
            system.int_lo[unknown],
            system.int_hi[unknown],
        )
        cells = system.cells[unknown]
        hidden = self.S[cells]
        small = hidden & primary[unknown] & (p_hi < self.cfg.protection)
        exact = hidden & (p_hi - p_lo < 1)
        out = []
        for i in np.flatnonzero(small | exact):
            k = int(unknown[i])
            self.certified[cells[i]] = False
            if small[i] or p_hi[i] < truth[k] + 1:
                target = max(self.cfg.protection, truth[k] + 1) if primary[k] else truth[k] + 1
                out.append(Failure(k, -1.0, float(target), integral=True))
            else:
                out.append(Failure(k, 1.0, float(truth[k] - 1), integral=True))
        return out
