"""Continuity across an LA split: a successor's returning children carry its predecessor's child IDs.

Each LA is simulated on its own, so a successor's first year (North and West Northamptonshire 2022,
Cumberland and Westmorland and Furness 2024) has children referred again after a referral in its warm-up
year, a year whose referrals are in no return of its own: in reality they are in the predecessor's
(Northamptonshire 2021, Cumbria 2023). A successor that carried its predecessor's cases
(``reference/la_successors.csv``: ``own_return`` or ``predecessors``) keeps their children's IDs: those
children take the LAchildID of a child of the predecessor's last return whose latest referral is also
within 12 months, and no other child of the successor keeps an ID of that return. DfE counted those
successors' first-year re-referrals within their own returns (``own_return``), so the published figures do
not see the link; a team that declares ``predecessors`` gets a look-back (:mod:`cin_assets.census.lookback`)
that matches those children by LAchildID, their re-referrals across the split being the simulated ones.

The predecessor's children are split between its successors in proportion to their referrals by a draw
seeded with the predecessor's code, so each successor, simulated alone, gets the same share whatever LAs
or years are generated (determinism). Only the ID is shared: the child's other details stay the
successor's own (the pipeline matches on the child key alone).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from cin_assets.synth.attributes import Attributes
from cin_assets.synth.simulate import History, day

_YEAR_DAYS = 365  # a year back, never more than the calendar year the pipeline allows
_FIRST_ID, _ID_END = 1_000_000, 10_000_000  # LAchildIDs are 7-digit numbers


def _window(year: int) -> tuple[int, int]:
    return day(dt.date(year - 1, 4, 1)), day(dt.date(year, 3, 31))


def candidates(h: History, attrs: Attributes, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The children of the predecessor's ``year`` return: (all their IDs, and for those whose episodes
    there all closed by 31 March (nothing left to carry into a successor) their IDs and latest referral
    day), the latter in child order."""
    end = _window(year)[1]
    ep = h.episodes
    active = h.in_return(year)
    n = len(h.children["dob"])
    latest = np.full(n, -1, dtype=np.int64)
    np.maximum.at(latest, ep["child"][active], ep["ref"][active])
    open_after = np.zeros(n, dtype=bool)
    open_after[ep["child"][active & (ep["close"] > end)]] = True
    present = latest >= 0
    closed = np.flatnonzero(present & ~open_after)
    return attrs.child_id[present], attrs.child_id[closed], latest[closed]


def share(
    ids: np.ndarray, mine: int, weights: list[float], seed: int, predecessor: str, year: int
) -> np.ndarray:
    """The mask of ``ids`` (a predecessor's candidates) that go to successor number ``mine`` of
    ``weights`` (each successor's referrals): one draw per predecessor, year and seed, the same for all."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, int(predecessor), year, 1]))
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=len(ids), p=p / p.sum()) == mine


def returning(h: History, year: int) -> tuple[np.ndarray, np.ndarray]:
    """The successor's children whose first referral of ``year`` comes within 12 months of a referral
    before ``year`` began (in the predecessor's time): (child, earliest day a predecessor referral of the
    same child must be on to count, as the pipeline reads it)."""
    start, end = _window(year)
    ep = h.episodes
    n = len(h.children["dob"])
    in_year = (ep["ref"] >= start) & (ep["ref"] <= end)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, ep["child"][in_year], ep["ref"][in_year])
    before = np.full(n, -1, dtype=np.int64)
    earlier = ep["ref"] < start
    np.maximum.at(before, ep["child"][earlier], ep["ref"][earlier])
    chosen = np.flatnonzero((first < np.iinfo(np.int64).max) & (before >= 0) & (before >= first - _YEAR_DAYS))
    return chosen, first[chosen] - _YEAR_DAYS


def match(lower: np.ndarray, latest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (returning child i, candidate j) with ``latest[j] >= lower[i]``, as many as possible, each
    used once: the children needing the most recent referral take the most recent candidates first."""
    kids, cands = np.argsort(-lower, kind="stable"), np.argsort(-latest, kind="stable")
    pairs_i, pairs_j = [], []
    j = 0
    for i in kids:  # one pass over a year's returning children (a few thousand at most)
        if j < len(cands) and latest[cands[j]] >= lower[i]:
            pairs_i.append(i)
            pairs_j.append(cands[j])
            j += 1
    return np.array(pairs_i, dtype=np.int64), np.array(pairs_j, dtype=np.int64)


def link(h: History, attrs: Attributes, year: int, every: np.ndarray, ids: np.ndarray, latest: np.ndarray,
         rng: np.random.Generator) -> int:  # fmt: skip
    """Give the successor's returning children of its first ``year`` the IDs of predecessor children
    (``ids``, ``latest``: its share of :func:`candidates`), and every other child that holds an ID of the
    predecessor's return (``every``) a fresh one; returns the number of children linked."""
    kids, lower = returning(h, year)
    i, j = match(lower, latest)
    linked = np.zeros(len(attrs.child_id), dtype=bool)
    linked[kids[i]] = True
    attrs.child_id[kids[i]] = ids[j]
    clash = np.flatnonzero(~linked & np.isin(attrs.child_id, np.asarray(every, dtype=object)))
    used = set(attrs.child_id.tolist()) | set(every.tolist())
    fresh: list[str] = []
    while len(fresh) < len(clash):
        for x in rng.integers(_FIRST_ID, _ID_END, size=2 * len(clash)).astype(str).tolist():
            if x not in used and len(fresh) < len(clash):
                fresh.append(x)
                used.add(x)
    attrs.child_id[clash] = np.array(fresh, dtype=object)
    return len(i)
