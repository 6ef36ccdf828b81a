"""Simulate one LA's children's social care history, year by year, hitting the calibrated counts exactly.

Why a history: a census return is a window on case histories that span years (an episode open at 31 March
reappears the next year with the same child). So the generator runs each LA from a warm-up period before
2013, one reporting year at a time, and the returns are cut from the finished history (:mod:`render`).

Each year, in order (all NumPy, vectorised over the year's events):

1. draw exactly R referral dates; split them into NFA, assessed-not-in-need (NIN, closed RC8 when the
   assessment is authorised) and children-in-need (CIN) episodes at the LA's published shares;
2. place exactly S Section 47 enquiries: most on the year's new CIN episodes, some on episodes carried over;
3. give exactly I initial conferences dates in the year: S47 conferences (a working-day lag drawn from the
   LA's published S47-to-ICPC duration bands; enquiries started late in March may confer in April and count
   next year), plus a few episode-level (transfer-in) conferences;
4. start exactly C child protection plans on the year's conference dates (rule 2885), with reviews after 3
   months then every 6, and a planned end from the published ending durations;
5. attach the referrals to children month by month: re-referrals of children whose last episode has closed
   (the LA's re-referral share within 12 months, plus older returners), the rest new children (some unborn);
6. at 31 March, make exactly P plans and A episodes open by moving the planned ends nearest the year end
   (cutting plans/episodes to close in the year, or extending ones closing in the year into the next),
   then exactly the LA's share of England's unborn children of them unborn, by moving dates of birth of
   children first referred in the year; the cases open at 31 March that the next year's published figures
   leave out of its episodes of need close next year as not in need (an assessment under way at 31 March,
   or a review of a case with nothing going on), and the cases they hold beyond this year's first appear
   in the next return (cases an earlier return left out); last, which of the year's short episodes close
   as not in need is swapped until the children starting, in need at any point and ending an episode of
   need are the LA's published counts (B1), as far as its children allow; and as many plans open at 1
   April as DfE's figures end fewer than the plans starting and open at both year ends leave are left out
   of the year's return (D1).

Every activity date is kept inside its episode (closure >= every activity), episodes of one child never
overlap, a child has at most one open plan, and open S47s/assessments at a year end are recent enough not to
raise the 8675Q/8670Q queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog, milp

from cin_assets.census import calendar
from cin_assets.synth.calibration import largest_remainder

EPOCH = np.datetime64("1970-01-01", "D")
WARMUP_YEARS = 5  # years simulated before the first real year, so 2013 starts with realistic open cases
FREE_YEARS = 2  # the first warm-up years run without the year-end controls (nothing to carry over yet)
MAX_REVIEWS = 12  # review slots per plan (3 months, then every 6: covers plans of 5.5 years)
NEW_LA_CODES = ("838", "839")  # LAs created in April 2019: their history before 2020 is warm-up only
_MARGIN = 2  # working days kept clear of the 8670Q/8675Q thresholds (validators count days differently)
_MID_BAND = np.array([0.1, 0.15, 0.2, 0.25, 0.3])  # S47 to conference: 11..15 working days
_PLAN_STREAM = 1_000  # spawn key of the plan controls' random stream (see LaSimulation)
_ADULT = int(18 * 365.25)  # services for a child normally end around the 18th birthday
_UNBORN_STREAM = 1_001  # spawn key of the unborn control's random stream
_CHILDREN_STREAM = 1_002  # spawn key of B1's children control's random stream
_CHILDREN_ROUNDS = 4  # at most so many rounds of that control's swaps
_SETS = np.array([4, 2, 1])  # bits of B1's counts of children: starting, at any point, ending
# An unborn child's birth is at most this many days after its first referral (and 31 March): rules 8606
# (referral at most 280 days before the expected date of birth, which is up to 14 days after the birth)
# and 8530Q (expected date of birth by 31 December) leave 266 and 261 days.
_GESTATION = 250

# Kinds of episode.
NFA, NIN, CIN = 0, 1, 2

_HOLIDAYS = np.array(calendar.BANK_HOLIDAYS, dtype="datetime64[D]")


def day(date: dt.date) -> int:
    """Days since 1970-01-01 (the simulation's date unit)."""
    return int((np.datetime64(date, "D") - EPOCH).astype(np.int64))


def _dt(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]")


def _int(dates: np.ndarray) -> np.ndarray:
    return dates.astype(np.int64)


def add_wd(days: np.ndarray | int, n: np.ndarray | int) -> np.ndarray:
    """The working day ``n`` working days after ``days`` (a non-working start rolls forward first)."""
    return _int(calendar.add_working_days_np(_dt(np.asarray(days)), np.asarray(n)))


def last_wd(days: np.ndarray | int) -> np.ndarray:
    """The latest working day on or before ``days``."""
    return _int(np.busday_offset(_dt(np.asarray(days)), 0, roll="backward", holidays=_HOLIDAYS))


def wd_between(start: np.ndarray, end: np.ndarray | int) -> np.ndarray:
    """Working days from ``start`` to ``end`` as the DfE counts them (see calendar.working_days)."""
    return calendar.working_days_np(_dt(np.asarray(start)), _dt(np.asarray(end)))


@dataclass(frozen=True)
class YearPlan:
    """One simulated year's targets for one LA (counts already scaled)."""

    year: int
    referrals: int
    at31: int
    s47: int
    icpc: int
    cpp_start: int
    cpp_at31: int
    nfa: float
    nin: float
    rereferral: float
    icpc_bands: tuple[float, float, float, float]
    icpc_band_counts: tuple[int, int, int, int]  # conferences per C4 band (working days from the enquiry)
    control: bool  # apply the 31 March controls (false in the first warm-up years)
    awaiting: int = 0  # episodes open at 31 March, started in the year, with no assessment started yet
    late_review: float = 0.0  # probability that a review of a plan starting this year is held late
    on_time_assessments: float = -1.0  # share of assessments within 45 working days (-1: national bands)
    ended: int = -1  # episodes of need ending in the year (-1: no target)
    referred_children: int = -1  # children referred in the year (C1; -1: left to the re-referral draw)
    rereferred_children: int = -1  # of them, re-referred (C1; -1: left to the draw; needs the above)
    s47_children: int = -1  # children with an enquiry starting in the year (C4; -1: left to the draws)
    icpc_children: int = -1  # children with a conference in the year (C4; -1: left to the draws)
    # children with an episode of need starting, open at any point, and ending in the year (B1; -1: left to
    # the draws)
    b1_children: tuple[int, int, int] = (-1, -1, -1)
    # weights of a referral day in the year's last 3 months, and in the 3 before, against the rest
    referral_weights: tuple[float, float] = (1.0, 1.0)
    cin_duration: tuple[float, ...] = ()  # the LA's probabilities of Params.cin_duration's bands (): national
    at31_bands: tuple[int, ...] = ()  # episodes open at 31 March per B4 duration band (sum at31; (): any)
    ended_shares: tuple[float, ...] = ()  # shares of episodes ending in the year per B5 band ((): any)
    cpp_bands: tuple[int, ...] = ()  # plans open at 31 March per D5 band (sum cpp_at31; (): total only)
    cpp_lasted: int = -1  # of them, started 3 months or more before 31 March (-1: no target)
    cpp_on_time: int = -1  # of those, plans with every review on time (-1: left to late_review)
    cpp_long_end: int = -1  # plans ending in the year after 2 years or more (-1: no target)
    cpp_end: int = -1  # plans ending in the year in its return (D1, derived from LAIT; -1: no target)
    cpp_lengths: tuple[float, ...] = ()  # shares of the other plans ending per D7 band ((): any)
    unborn_plan: int = -1  # unborn children on a plan at 31 March (-1: left to the draw of ages)
    unborn_other: int = -1  # the other unborn children in need at 31 March


@dataclass(frozen=True)
class Params:
    """Behavioural shares and duration shapes (national; see data/reference/national_shares.csv)."""

    cin_duration: tuple[np.ndarray, np.ndarray, np.ndarray]  # band lo, hi (days), probability
    cpp_duration: tuple[np.ndarray, np.ndarray, np.ndarray]
    assessment_wd: tuple[np.ndarray, np.ndarray, np.ndarray]
    age_bands: tuple[np.ndarray, np.ndarray, np.ndarray]  # lo, hi in days of age; lo < 0 = unborn
    # odds of being unborn for a child whose first episode starts with a plan, against other new children:
    # England 2020 A5 has 1,220 unborn children on a plan at 31 March (2.4%; A4: 1.8% of CIN); 1.0 gave 850,
    # 1.6 and 1.67 gave 1,170 and 1,290 once plans started evenly over the months; 1.63 gave 1,295 once
    # plans started in the last months as the LA's D5 3-month band needs, 1.54 gave 1,263 with C4 bands.
    # The draw only sets how many dates of birth LaSimulation._control_unborn moves to make the count exact.
    unborn_plan_odds: float = 1.49
    repeat_s47_share: float = (
        0.095  # enquiries that are a child's second in the year (C4 2020: 201,000 for 177,840 children)
    )
    old_s47_share: float = 0.12  # S47s on episodes that started in an earlier year (assumed)
    older_rereferral: float = (
        0.12  # referrals of children last referred more than 12 months earlier (assumed)
    )


class _Store:
    """Column arrays with amortised growth (the simulation appends a year's events at a time)."""

    def __init__(self, **dtypes: np.dtype | type | tuple[type, tuple[int]]) -> None:
        self.n = 0
        self._cap = 1024
        self.cols = {k: np.zeros((self._cap,), dtype=v) for k, v in dtypes.items()}

    def append(self, **values: np.ndarray) -> np.ndarray:
        """Append rows (every column must be given or defaults to -1); returns their indices."""
        k = len(next(iter(values.values())))
        need = self.n + k
        if need > self._cap:
            while self._cap < need:
                self._cap *= 2
            for name, col in self.cols.items():
                grown = np.zeros((self._cap, *col.shape[1:]), dtype=col.dtype)
                grown[: self.n] = col[: self.n]
                self.cols[name] = grown
        for name, col in self.cols.items():
            col[self.n : need] = values.get(name, -1)
        idx = np.arange(self.n, need)
        self.n = need
        return idx

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name][: self.n]


@dataclass
class History:
    """The finished history of one LA: plain arrays, dates as day numbers (-1 = none)."""

    children: dict[str, np.ndarray]  # dob
    episodes: dict[str, np.ndarray]  # child, ref, close, kind, icpc, shown (the first return holding it)
    assessments: dict[str, np.ndarray]  # episode, start, auth
    s47: dict[str, np.ndarray]  # episode, start, target, icpc, not_required
    cpps: dict[str, np.ndarray]  # episode, start, end, reviews (n x MAX_REVIEWS), hidden (the first return
    # leaving it out, -1: none; render.cut)
    shortfalls: dict[str, int] = field(default_factory=dict)  # control misses (only carry_nin expected)

    def in_return(self, year: int) -> np.ndarray:
        """Mask of the episodes in reporting ``year``'s return: active in the year, and not one that first
        appears in a later return (:meth:`LaSimulation._appear`)."""
        start, end = day(dt.date(year - 1, 4, 1)), day(dt.date(year, 3, 31))
        ep = self.episodes
        return (ep["ref"] <= end) & (ep["close"] >= start) & (ep["shown"] <= year)

    def children_of(self, episodes: np.ndarray) -> np.ndarray:
        """The children (sorted, distinct) of ``episodes`` (indices or a mask): a mask over the children,
        several times faster than ``np.unique``."""
        seen = np.zeros(len(self.children["dob"]), dtype=bool)
        seen[self.episodes["child"][episodes]] = True
        return np.flatnonzero(seen)


def _sample_bands(
    rng: np.random.Generator, bands: tuple[np.ndarray, np.ndarray, np.ndarray], n: int
) -> np.ndarray:
    lo, hi, p = bands
    pick = rng.choice(len(p), size=n, p=p)
    return rng.integers(lo[pick], hi[pick] + 1)


# A child re-referred within 12 months is more often one whose last episode closed recently (weight
# exp(-days / _REREFERRAL_DAYS)) and, at odds e^_CARRIED_LOG_ODDS, one whose episode was open at the start
# of the year and closed in it. With 120 days and no such odds, children in need at any point and ending
# were 2.3% above B1 England 2019-2020 with episodes exact (too few children with two episodes in the year);
# a shorter time alone made too few children starting, the odds alone too many. Chosen at scale 1. And at
# odds e^_KNOWN_LOG_ODDS, one first referred before this year: with none, C1 children re-referred were 3%
# above England 2019-2020 with re-referrals right, and children referred 1.4% below (too many children both
# referred for the first time and re-referred in one year, too few re-referred twice); odds 1.4 left them
# 1.7% above and 1.0% below; 2.0 gives 21.3% re-referred in 2019 and 2020 (DfE 21.4%, 21.3%) and children
# referred 0.5% below, children in need at any point and ending within 1% (at scale 1, with the B4/B5
# controls). Children referred are now each LA's published count (LaSimulation._attach_children); the odds
# still set who else is re-referred.
_REREFERRAL_DAYS = 35.0
_CARRIED_LOG_ODDS = float(np.log(4.0))
_KNOWN_LOG_ODDS = float(np.log(2.0))
_CONFERENCED_LOG_ODDS = float(np.log(20.0))

_KEPT = 1e6  # log-weight that makes a Gumbel top-k take an element last

_LONG = 730  # episodes longer than 2 years: the tail that the feedback on durations stretches


def _stretch_tail(days: np.ndarray, k: float) -> np.ndarray:
    """Durations with the part beyond 2 years scaled by ``k``. An LA's children in need at 31 March are
    its episodes starting times their mean length, so the mean must follow the LA's figures; stretching
    only the long tail keeps the share of short episodes ending (B5: almost half last 3 months or less)
    while the long ones make up the third of open cases that have lasted 2 years or more (B4)."""
    return np.where(days > _LONG, _LONG + np.rint((days - _LONG) * k), days).astype(np.int64)


def _gumbel_top(rng: np.random.Generator, log_w: np.ndarray, k: int) -> np.ndarray:
    """Indices of a weighted sample of ``k`` without replacement (Gumbel top-k)."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= len(log_w):
        return np.arange(len(log_w))
    keys = log_w + rng.gumbel(size=len(log_w))
    return np.argpartition(-keys, k - 1)[:k]


def _gather(values: np.ndarray, idx: np.ndarray, missing: int = -1) -> np.ndarray:
    """``values[idx]`` with ``missing`` where idx is -1 (works on an empty ``values``)."""
    if len(values) == 0:
        return np.full(len(idx), missing, dtype=np.int64)
    return np.where(idx >= 0, values[np.maximum(idx, 0)], missing)


_YEAR_ENDS = np.array([day(dt.date(y, 3, 31)) for y in range(2000, 2031)])


def _recent_if_open(start: np.ndarray, auth: np.ndarray) -> np.ndarray:
    """Authorise by 31 March an assessment that would otherwise be open then after more than 45 working
    days (query 8670Q)."""
    boundary = _YEAR_ENDS[np.searchsorted(_YEAR_ENDS, start)]
    late = (auth > boundary) & (wd_between(start, boundary) > 45 - _MARGIN)
    return np.where(late, np.maximum(last_wd(boundary), start), auth)


def _even_months(rng: np.random.Generator, days: np.ndarray, k: int) -> np.ndarray:
    """``k`` positions of ``days`` (sorted) spread as evenly over the calendar months as the months allow:
    each month gives the same number, or all it has (water-filling), the rest at random within months.

    Plans start on the year's conferences; taken at random they follow where conferences bunch (fewer
    after August and late December referrals, more on 31 March for enquiries that would otherwise stay open
    too long), which left 8 to 10% too few plans open 3 to 6 months at 31 March against D5 (England has
    about 78 of them for 100 open up to 3 months, with 81 of 100 plans lasting beyond 3 months in D7: plans
    start evenly over the year)."""
    n = len(days)
    if k >= n:
        return np.arange(n)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    _, inverse, counts = np.unique(month, return_inverse=True, return_counts=True)
    filled = np.array([np.minimum(counts, q).sum() for q in range(int(counts.max()) + 1)])
    q = int(np.searchsorted(filled, k, side="right")) - 1
    quota = np.minimum(counts, q)
    room = np.flatnonzero(counts > q)
    quota[rng.choice(room, size=k - int(quota.sum()), replace=False)] += 1
    order = np.lexsort((rng.random(n), inverse))
    rank = np.arange(n) - np.searchsorted(inverse[order], inverse[order])
    return np.sort(order[rank < quota[inverse[order]]])


def _month_tables() -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Calendar lookups for 1900-2100 (the simulation's dates, with room): the first day number, each
    day's month (months since 1900) and day of the month (0-based), and each month's first day and
    length. Looking dates up is several times faster than datetime64 arithmetic on every call."""
    months = np.arange("1900-01", "2101-01", dtype="datetime64[M]")
    first = _int(months.astype("datetime64[D]"))
    length = np.diff(np.append(first, day(dt.date(2101, 1, 1))))
    days = np.arange(first[0], first[-1] + length[-1])
    month = np.repeat(np.arange(len(months)), length)
    return int(first[0]), month, days - first[month], first, length


_FIRST_DAY, _MONTH, _DOM, _MONTH_START, _MONTH_LENGTH = _month_tables()


def add_months(days: np.ndarray | int, months: int) -> np.ndarray:
    """``days`` plus calendar ``months``, the day clamped to the month's last (31 January + 1 month = 29
    February 2020), as the published duration bands count months (polars ``offset_by``)."""
    i = np.asarray(days, dtype=np.int64) - _FIRST_DAY
    to = _MONTH[i] + months
    return _MONTH_START[to] + np.minimum(_DOM[i], _MONTH_LENGTH[to] - 1)


_DEC31 = 5  # the window of plans started exactly 3 months before 31 March (see _open_window)


def open_window(start: np.ndarray, end: int | np.ndarray) -> np.ndarray:
    """The D5 band (0: 3 months or less .. 4: 2 years or more) of plans started on ``start`` and open at
    ``end`` (:func:`cin_assets.measures.units.duration_band`), and 5 for a plan started exactly 3 months
    before (31 December): in the 3-month band, yet open 3 months or more for D6 (LAIT's count of those
    exceeds D5's complement by the plans started that day)."""
    m3, m6, y1, y2 = (add_months(start, n) for n in (3, 6, 12, 24))
    band = np.select([end <= m3, end <= m6, end < y1, end < y2], [0, 1, 2, 3], 4)
    return np.where(end == m3, _DEC31, band)


def _band(start: np.ndarray, end: int | np.ndarray) -> np.ndarray:
    """The B4/B5 duration band (0: 3 months or less .. 4: 2 years or more) of episodes started on ``start``
    and open at (or closed on) ``end``."""
    band = open_window(start, end)
    return np.where(band == _DEC31, 0, band)


def _band_edges(start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and last closing day of each B5 band (rows 0..4) for episodes started on ``start``:
    up to 3 months, up to 6 months, under 1 year, under 2 years, then anything later."""
    m3, m6, y1, y2 = (add_months(start, n) for n in (3, 6, 12, 24))
    far = np.full(len(start), np.iinfo(np.int64).max // 2)
    return np.stack([start, m3 + 1, m6 + 1, y1, y2]), np.stack([m3, m6, y1 - 1, y2 - 1, far])


def _trim(counts: np.ndarray, k: int) -> np.ndarray:
    """``counts`` cut down to sum ``k`` (<= their sum), taking from the largest first."""
    out = counts.copy()
    for _ in range(int(out.sum()) - k):
        out[int(np.argmax(out))] -= 1
    return out


def _day_between(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """A day drawn evenly from ``first`` to ``last`` (inclusive), per element."""
    return first + (rng.random(len(first)) * (last - first + 1)).astype(np.int64)


def _pick(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``k`` distinct positions out of ``n`` (sorted)."""
    k = min(k, n)
    return np.sort(rng.choice(n, size=k, replace=False)) if k > 0 else np.zeros(0, dtype=np.int64)


def _within(
    bands: tuple[np.ndarray, np.ndarray, np.ndarray], limit: int, share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``bands`` reweighted so that ``share`` of the draws are ``limit`` or less (the shape on each side
    kept); a negative ``share`` keeps them as they are."""
    lo, hi, p = bands
    if share < 0:
        return bands
    inside = hi <= limit
    weights = np.where(inside, p / p[inside].sum() * share, p / p[~inside].sum() * (1.0 - share))
    return lo, hi, weights / weights.sum()


def _band_targets(counts: tuple[int, int, int, int], icpc: int) -> np.ndarray:
    """The LA's conferences per C4 band, trimmed from the longest band down when rounding or imputation
    put more in the bands than the LA's ICPCs."""
    targets = np.array(counts, dtype=np.int64)
    for b in range(3, -1, -1):
        targets[b] -= min(max(int(targets.sum()) - icpc, 0), targets[b])
    return targets


def _draw_bands(
    rng: np.random.Generator, shares: np.ndarray, no_conf: np.ndarray, wanted: np.ndarray
) -> np.ndarray:
    """A C4 band per enquiry: among those that may conference, half as many again as each band still
    wants (as far as they go), the rest by the LA's band shares, so that a small LA's rare band has
    candidates to choose from."""
    band = rng.choice(4, size=len(no_conf), p=shares / shares.sum())
    may = np.flatnonzero(~no_conf)
    quota = np.ceil(np.maximum(wanted, 0) * 1.5).astype(np.int64)
    quota = quota if quota.sum() <= len(may) else np.maximum(wanted, 0)
    if quota.sum() <= len(may):
        fixed = rng.permutation(may)[: int(quota.sum())]
        band[fixed] = np.repeat(np.arange(4), quota)
    return band


def _icpc_band(start: np.ndarray, icpc: np.ndarray) -> np.ndarray:
    """The C4 band (0: 0-10, 1: 11-15, 2: 16-20, 3: 21+ working days) of conferences on enquiries."""
    return np.searchsorted(np.array([10, 15, 20]), wd_between(start, icpc), side="left")


def _by_band(rng: np.random.Generator, band: np.ndarray, wanted: np.ndarray, k: int) -> np.ndarray:
    """``k`` positions (sorted) with ``wanted[b]`` of band ``b`` as far as each band has them; the rest
    (a band with too few, or ``wanted`` not summing to ``k``) at random among those left."""
    order = np.lexsort((rng.random(len(band)), band))
    rank = np.arange(len(band)) - np.searchsorted(band[order], band[order])
    first = order[rank < np.maximum(wanted, 0)[band[order]]]
    first = first[_pick(rng, len(first), k)] if len(first) > k else first
    rest = np.flatnonzero(~np.isin(np.arange(len(band)), first))
    return np.sort(np.concatenate([first, rest[_pick(rng, len(rest), k - len(first))]]))


def _referral_dates(
    rng: np.random.Generator, start: int, end: int, n: int, weights: tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    """Referral dates: mostly working days, fewer at weekends, bank holidays, August and late December; the
    days of the last 3 months, and of the 3 before, weigh ``weights`` times as much as the others, as the
    LA's episodes open at 31 March that started then say (LAIT CINTime; see
    :func:`calibration.referral_weights`)."""
    days = np.arange(start, end + 1)
    d = _dt(days)
    weekday = (days + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    w = np.where(weekday < 5, 1.0, 0.18)
    w = np.where(np.isin(d, _HOLIDAYS), 0.3, w)
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    w = (
        w
        * np.where(month == 8, 0.85, 1.0)
        * np.where((month == 12) & (days - _int(d.astype("datetime64[M]")) > 20), 0.6, 1.0)
        * np.where(days > end - 91, weights[0], np.where(days > end - 182, weights[1], 1.0))
    )
    return np.sort(rng.choice(days, size=n, p=w / w.sum()))


def _pair(rng: np.random.Generator, had: np.ndarray, has: np.ndarray, k: int) -> np.ndarray:
    """Slots (positions in a month's episodes, the returning children's first, in their order, then the new
    children's) such that exactly ``k`` of the returning children marked ``had`` get an episode marked
    ``has``: the other ``had`` ones get episodes without, the rest of the children any of what is left."""
    yes, no = rng.permutation(np.flatnonzero(has)), rng.permutation(np.flatnonzero(~has))
    first = np.flatnonzero(had)
    out = np.empty(len(had), dtype=np.int64)
    out[first] = np.concatenate([yes[:k], no[: len(first) - k]])
    rest = rng.permutation(np.concatenate([yes[k:], no[len(first) - k :]]))
    out[np.flatnonzero(~had)] = rest[: len(had) - len(first)]
    return np.concatenate([out, rest[len(had) - len(first) :]])


def _match(rng: np.random.Generator, had: np.ndarray, has: np.ndarray, group: np.ndarray,
           k: int) -> tuple[np.ndarray, int]:  # fmt: skip
    """A new order of a month's returning children over their episodes (child ``i`` takes the episode of
    child ``order[i]``), each keeping an episode of the same ``group`` (with an enquiry or not: the LA's
    children with one stay as they were), such that ``k`` of the children marked ``had`` get an episode
    marked ``has``, or as near as the groups allow; returns (order, how many)."""
    order = np.arange(len(had))
    parts = [np.flatnonzero(group == g) for g in (False, True)]
    lo = [max(int(had[p].sum() + has[p].sum()) - len(p), 0) for p in parts]
    hi = [min(int(had[p].sum()), int(has[p].sum())) for p in parts]
    k = int(np.clip(k, sum(lo), sum(hi)))
    first = min(lo[0] + k - sum(lo), hi[0])
    for p, kp in zip(parts, (first, k - first), strict=True):
        slots = _pair(rng, had[p], has[p], kp)
        order[p[slots]] = p
    return order, k


def _repeats_now(left: int, now: int, later: np.ndarray, rate: float, last_ref: np.ndarray,
                 last_close: np.ndarray, firsts: np.ndarray, lasts: np.ndarray) -> int:  # fmt: skip
    """How many of this month's re-referrals go to children already referred in the year, of ``left`` to
    go. A re-referral comes within 12 months of the child's last referral, so late in the year few of the
    children last referred before it (``last_ref``, ``last_close``) still qualify and the later months'
    re-referrals (``rate`` of their ``later`` referrals; ``firsts``: their first days, ``lasts``: their last
    referrals) must mostly be repeats: those go first, the rest is shared over the re-referrals still free,
    this month's ``now`` among them."""
    quota = np.rint(rate * later)
    qualify = ((last_ref >= lasts[:, None] - 365) & (last_close < firsts[:, None])).sum(axis=1)
    forced = np.maximum(quota - qualify, 0)
    free = now + (quota - forced).sum()
    return round((left - forced.sum()) * now / max(free, 1))


def _distinct(rng: np.random.Generator, kinds: np.ndarray, children: np.ndarray) -> np.ndarray:
    """Positions of ``kinds``, in random order, keeping one per child and kind."""
    order = rng.permutation(len(kinds))
    _, first = np.unique(
        kinds[order] * (int(children.max(initial=0)) + 1) + children[order], return_index=True
    )
    return order[np.sort(first)]


def _swap_counts(need: np.ndarray, care: np.ndarray, n_x: np.ndarray, n_y: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """How many episodes of each kind to swap so that B1's three counts of children come nearest their
    targets (``need``: target less count, where ``care``), then with the fewest swaps (see
    :meth:`LaSimulation._control_children`). Kinds are band * 8 + bits of :data:`_SETS`: of an episode of
    need (``n_x``: how many), the counts its child has no other episode in; of a not-in-need closure
    (``n_y``), the counts its child has no episode in. Each band swaps as many of the one as of the other.
    A small integer programme (its linear relaxation is nearly always whole, and 3 times faster); returns
    the numbers of each kind to swap, and what they leave of ``need``."""
    kinds = np.arange(40)
    bits = ((kinds % 8)[None, :] & _SETS[:, None] > 0).astype(np.float64)  # 3 x 40
    have = np.concatenate([n_x, n_y])
    cols = np.flatnonzero(have)  # variables: the episodes of each kind swapped, then each count's
    rows = np.flatnonzero(care)  # overshoot and shortfall
    m = len(rows)
    effect = np.hstack([-bits, bits])[rows][:, cols]  # an episode of need leaves its counts, a closure joins
    band = (cols % 40) // 8
    balance = np.hstack(
        [(band == np.arange(5)[:, None]) * np.where(cols < 40, 1.0, -1.0), np.zeros((5, 2 * m))]
    )
    a_eq = np.vstack([np.hstack([effect, -np.eye(m), np.eye(m)]), balance])
    b_eq = np.concatenate([need[rows], np.zeros(5)])
    cost = np.concatenate([np.ones(len(cols)), np.full(2 * m, 10.0 * (have.sum() + 1))])
    upper = np.concatenate([have[cols], np.full(2 * m, np.inf)])
    res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=np.column_stack([np.zeros(len(upper)), upper]))
    if res.x is not None and np.abs(res.x - np.round(res.x)).max() > 1e-6:
        res = milp(
            cost,
            constraints=[(a_eq, b_eq, b_eq), (np.eye(len(upper)), 0, upper)],
            integrality=np.concatenate([np.ones(len(cols)), np.zeros(2 * m)]),
        )
    take = np.zeros(80, dtype=np.int64)
    if res.x is not None:
        take[cols] = np.round(res.x[: len(cols)]).astype(np.int64)
    left = need.copy()
    left[rows] -= (effect @ take[cols]).astype(np.int64)
    return take[:40], take[40:], left


def substream(rng: np.random.Generator, key: int) -> np.random.Generator:
    """An independent stream spawned from ``rng``'s seed under ``key``: a control drawing from its own
    stream does not reshuffle every later draw of ``rng``."""
    seq = rng.bit_generator.seed_seq
    if isinstance(seq, np.random.SeedSequence):
        return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, key)))
    return np.random.default_rng(np.random.SeedSequence(key))


class LaSimulation:
    """Runs one LA's history (see the module docstring for the yearly steps)."""

    def __init__(self, plans: list[YearPlan], params: Params, rng: np.random.Generator) -> None:
        self.plans = plans
        self.p = params
        self.rng = rng
        # the 31 March plan controls draw from their own stream, so that meeting the plan figures does not
        # reshuffle every later draw of the episodes' controls
        self.plan_rng = substream(rng, _PLAN_STREAM)
        self.unborn_rng = substream(rng, _UNBORN_STREAM)
        self.children_rng = substream(rng, _CHILDREN_STREAM)
        self.ch = _Store(dob=np.int64, last_ep=np.int64, first=np.int64)  # first: the first referral
        self.ep = _Store(child=np.int64, ref=np.int64, close=np.int64, kind=np.int8, act=np.int64,
                         last_cpp=np.int64, last_asm=np.int64, icpc=np.int64, shown=np.int64)  # fmt: skip
        self.asm = _Store(episode=np.int64, start=np.int64, auth=np.int64)
        self.s47 = _Store(episode=np.int64, start=np.int64, target=np.int64, icpc=np.int64, res=np.int64)
        self.cpp = _Store(episode=np.int64, start=np.int64, end=np.int64, reviews=(np.int64, (MAX_REVIEWS,)),
                          hidden=np.int64)  # fmt: skip
        self.spill: np.ndarray = np.zeros(0, dtype=np.int64)  # S47s whose conference falls next year
        self.k_ep = 1.0  # feedback on long episode durations (keeps the 31 March corrections small)
        self.assessment_wd = params.assessment_wd  # this year's assessment lengths (see _year)
        self.k_cpp = 1.0
        # children re-referred in a year who have an enquiry on an earlier episode of the year and on the
        # new one, per enquiry, had children been paired with episodes at random (last year's)
        self.s47_cross = 0.0
        self._stale = 0  # last year's open cases to close as not in need this year (_close_stale)
        self._appearing = (0, 0)  # cases first in this year's return, old and recent (_appear)
        self.shortfalls: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers
    def _miss(self, what: str, n: int) -> None:
        if n > 0:
            self.shortfalls[what] = self.shortfalls.get(what, 0) + int(n)

    def _min_close(self, e: np.ndarray) -> np.ndarray:
        """Earliest closure each episode allows: its last activity, and its latest plan's end."""
        act = self.ep["act"][e]
        lc = self.ep["last_cpp"][e]
        cpp_end = _gather(self.cpp["end"], lc)
        return np.maximum(act, cpp_end)

    def _without_enquiry(self, e: np.ndarray) -> np.ndarray:
        """The episodes ``e`` (sorted, distinct) that never had an enquiry: what ``np.setdiff1d`` with every
        enquiry's episode gives, through a mask instead of sorting them all on every call."""
        enquired = np.zeros(self.ep.n, dtype=bool)
        enquired[self.s47["episode"]] = True
        return e[~enquired[e]]

    def _assessments(self, episodes: np.ndarray, start_from: np.ndarray) -> None:
        """One assessment per episode starting at/after ``start_from``; its authorisation becomes activity."""
        rng = self.rng
        lag = rng.choice(
            np.array([0, 1, 2, 3, 4, 5]), size=len(episodes), p=[0.5, 0.25, 0.15, 0.05, 0.03, 0.02]
        )
        start = add_wd(start_from, lag)
        auth = add_wd(start, _sample_bands(rng, self.assessment_wd, len(episodes)))
        auth = _recent_if_open(start, auth)
        self.ep["last_asm"][episodes] = self.asm.append(episode=episodes, start=start, auth=auth)
        self.ep["act"][episodes] = np.maximum(self.ep["act"][episodes], auth)

    def _reviews(self, start: np.ndarray, late: float = 0.0) -> np.ndarray:
        """Review conference dates: within 3 months of the plan starting, then at most every 6 months;
        each review is held 2 to 6 weeks late with probability ``late`` (the LA's published share of plans
        reviewed on time)."""
        rng = self.rng
        n = len(start)
        gaps = np.empty((n, MAX_REVIEWS), dtype=np.int64)
        gaps[:, 0] = 91 - rng.integers(0, 21, size=n)
        gaps[:, 1:] = 182 - rng.integers(0, 28, size=(n, MAX_REVIEWS - 1))
        if late > 0:
            gaps += np.where(
                rng.random((n, MAX_REVIEWS)) < late, rng.integers(35, 75, size=(n, MAX_REVIEWS)), 0
            )
        raw = start[:, None] + np.cumsum(gaps, axis=1)
        return last_wd(raw.ravel()).reshape(n, MAX_REVIEWS)

    def _cpp_end(self, start: np.ndarray, reviews: np.ndarray) -> np.ndarray:
        """Planned plan ends: durations from the published ending bands, snapped to a review if one is near."""
        dur = np.maximum(np.rint(_sample_bands(self.rng, self.p.cpp_duration, len(start)) * self.k_cpp), 14)
        end = start + dur.astype(np.int64)
        before = np.where(reviews <= end[:, None], reviews, -1).max(axis=1)
        snap = (before > start) & (end - before <= 45)
        return np.where(snap, before, end)

    # ------------------------------------------------------------------ one year
    def run(self) -> History:
        for plan in self.plans:
            self._year(plan)
        ch, ep, asm, s47, cpp = self.ch, self.ep, self.asm, self.s47, self.cpp
        return History(
            children={"dob": ch["dob"].copy()},
            episodes={k: ep[k].copy() for k in ("child", "ref", "close", "kind", "icpc", "shown")},
            assessments={k: asm[k].copy() for k in ("episode", "start", "auth")},
            s47={
                "episode": s47["episode"].copy(),
                "start": s47["start"].copy(),
                "target": s47["target"].copy(),
                "icpc": s47["icpc"].copy(),
            },
            cpps={k: cpp[k].copy() for k in ("episode", "start", "end", "reviews", "hidden")},
            shortfalls=dict(self.shortfalls),
        )

    def _year(self, plan: YearPlan) -> None:
        rng, p = self.rng, self.p
        start, end = day(dt.date(plan.year - 1, 4, 1)), day(dt.date(plan.year, 3, 31))
        next_plan = next((q for q in self.plans if q.year == plan.year + 1), None)
        self.assessment_wd = _within(p.assessment_wd, 45, plan.on_time_assessments)

        # 1. referrals and their kinds -------------------------------------------------------------
        n_ref = plan.referrals
        ref = _referral_dates(rng, start, end, n_ref, plan.referral_weights)
        n_nfa = round(n_ref * plan.nfa)
        n_nin = min(round(n_ref * plan.nin), n_ref - n_nfa)

        # 2. Section 47s: carried-over episodes first (they must be open, without a live plan or enquiry)
        open_old = np.flatnonzero(
            (self.ep["kind"] == CIN) & (self.ep["ref"] < start) & (self.ep["close"] >= start + 10)
        )
        due = np.isin(open_old, self.s47["episode"][self.spill])  # a conference is already due
        open_old = open_old[~due]
        lo = np.maximum(start, self._min_close(open_old) + 1)
        hi = np.minimum(self.ep["close"][open_old] - 1, end)
        cand = open_old[lo <= hi]
        lo, hi = lo[lo <= hi], hi[lo <= hi]
        n_old = min(round(plan.s47 * p.old_s47_share), len(cand))
        n_new = plan.s47 - n_old
        n_cin = n_ref - n_nfa - n_nin
        if n_new > n_cin:  # more enquiries than CIN referrals: more old episodes, then fewer NIN, then NFA
            short = n_new - n_cin
            extra = min(short, len(cand) - n_old)
            n_old, short = n_old + extra, short - extra
            t = min(short, n_nin)
            n_nin, short = n_nin - t, short - t
            t = min(short, n_nfa)
            n_nfa, short = n_nfa - t, short - t
            n_cin = n_ref - n_nfa - n_nin
            self._miss("section47", short)
            n_new = min(plan.s47 - n_old, n_cin)
        # leave enough new cases without an enquiry to await assessment at 31 March (_control_awaiting)
        shift = max(min(plan.awaiting - (n_cin - n_new), len(cand) - n_old, n_new), 0)
        n_old, n_new = n_old + shift, n_new - shift
        kinds = np.concatenate([np.full(n_nfa, NFA), np.full(n_nin, NIN), np.full(n_cin, CIN)]).astype(
            np.int8
        )
        rng.shuffle(kinds)
        e_new = self.ep.append(child=np.full(n_ref, -1), ref=ref, close=ref, kind=kinds, act=ref,
                               last_cpp=np.full(n_ref, -1), icpc=np.full(n_ref, -1))  # fmt: skip
        assessed = e_new[kinds != NFA]
        self._assessments(assessed, self.ep["ref"][assessed])

        pick = _pick(rng, len(cand), n_old)
        old_e = cand[pick]
        old_start = rng.integers(lo[pick], hi[pick] + 1)
        cin_new = e_new[kinds == CIN]
        new_e = cin_new[_pick(rng, len(cin_new), n_new)]
        lag = rng.choice(np.array([0, 1, 2, 3, 5, 8]), size=len(new_e), p=[0.42, 0.25, 0.13, 0.1, 0.06, 0.04])
        new_start = np.minimum(add_wd(self.ep["ref"][new_e], lag), end)
        # Some children have a second enquiry in the year (C4: 1.13 enquiries per child in England 2020):
        # a second one, after the first has concluded, on some of the new episodes, in place of the
        # first one of others; neither leads to a conference.
        again = add_wd(new_start, rng.integers(15, 60, size=len(new_e)))
        ok = np.flatnonzero(again <= end - 40)
        n_rep = round(plan.s47 * p.repeat_s47_share)
        if plan.s47_children >= 0:  # the rest of the enquiries beyond the LA's children, less those that
            # children re-referred in the year will have on two episodes (_attach_children makes them exact)
            n_rep = plan.s47 - plan.s47_children - round(self.s47_cross * plan.s47)
        n_rep = min(max(n_rep, 0), len(ok), len(new_e) // 2)
        rep = ok[_pick(rng, len(ok), n_rep)]
        rest = np.flatnonzero(~np.isin(np.arange(len(new_e)), rep))
        keep = np.sort(np.concatenate([rep, np.delete(rest, _pick(rng, len(rest), n_rep))]))
        new_e, new_start = new_e[keep], new_start[keep]
        again_e, again_start = new_e[np.isin(keep, rep)], again[keep][np.isin(keep, rep)]
        s_ep = np.concatenate([old_e, new_e, again_e])
        s_start = np.concatenate([old_start, new_start, again_start])
        no_conf = np.zeros(len(s_ep), dtype=bool)
        no_conf[len(old_e) :] = np.isin(s_ep[len(old_e) :], again_e)
        # A re-assessment accompanies an enquiry on a carried-over episode (rule 2991Q expects one).
        self._assessments(old_e, old_start)

        # 3. conferences ---------------------------------------------------------------------------
        spill_in = self.spill
        # C4 counts every conference in its band: only the ICPCs beyond the bands' total (an LA whose
        # ICPCs were raised to its plan starts, rule 2883) are recorded on the episode, without an enquiry
        targets = _band_targets(plan.icpc_band_counts, plan.icpc)
        taken = np.bincount(_icpc_band(self.s47["start"][spill_in], self.s47["icpc"][spill_in]), minlength=4)
        band = _draw_bands(rng, np.array(plan.icpc_bands, dtype=np.float64), no_conf, targets - taken)
        lag = rng.integers(np.array([1, 11, 16, 21])[band], np.array([10, 15, 20, 35])[band] + 1)
        # within 11-15 days, conferences bunch towards the 15-day limit (assumed weights: C4 England 2020's
        # median is 14 working days with 25th and 75th percentiles 12 and 15; uniform gave 13)
        mid = np.flatnonzero(band == 1)
        lag[mid] = 11 + rng.choice(5, size=len(mid), p=_MID_BAND)
        cand_icpc = add_wd(s_start, lag)
        # an enquiry started on a non-working day counts one more working day than drawn: draw one less
        extra = wd_between(s_start, cand_icpc) - lag
        cand_icpc = np.where(extra > 0, add_wd(s_start, np.maximum(lag - extra, 0)), cand_icpc)
        stale = (cand_icpc > end) & (wd_between(s_start, end) > 15 - _MARGIN)  # open S47 query 8675Q
        cand_icpc = np.where(stale, np.maximum(last_wd(end), s_start), cand_icpc)
        cand_icpc = np.where(cand_icpc < s_start, s_start, cand_icpc)
        in_year = np.flatnonzero((cand_icpc <= end) & ~no_conf)
        crossing = np.flatnonzero((cand_icpc > end) & ~no_conf)
        n_epi = plan.icpc - int(targets.sum())
        need = plan.icpc - len(spill_in) - n_epi
        if need > len(in_year):
            n_epi += need - len(in_year)
            need = len(in_year)
        self._miss("icpc_spill", max(-need, 0))
        need = max(need, 0)
        c4 = _icpc_band(s_start[in_year], cand_icpc[in_year])
        chosen = _by_band(rng, c4, targets - taken, need)
        # as many conferences in the last months as the plans open at 31 March from then need (swapped
        # within a C4 band, which keeps the LA's conferences per band)
        chosen = in_year[self._fill_windows(plan, cand_icpc[in_year], chosen, end, c4)]
        self._on_31_december(plan, cand_icpc, s_start, chosen, end)
        rate = need / len(in_year) if len(in_year) else 0.4
        # conferences held next year take at most half of each of next year's bands
        c_band = _icpc_band(s_start[crossing], cand_icpc[crossing])
        room = np.bincount(c_band, minlength=4)
        if next_plan is not None:
            room = np.minimum(room, _band_targets(next_plan.icpc_band_counts, next_plan.icpc) // 2)
        n_out = min(int(rng.binomial(len(crossing), min(rate, 1.0))), int(room.sum()))
        spill_out = crossing[_by_band(rng, c_band, room, n_out)]
        icpc = np.full(len(s_ep), -1, dtype=np.int64)
        icpc[chosen] = cand_icpc[chosen]
        icpc[spill_out] = cand_icpc[spill_out]
        res = np.where(icpc >= 0, icpc, s_start + rng.integers(3, 26, size=len(s_ep)))
        s_idx = self.s47.append(episode=s_ep, start=s_start, target=add_wd(s_start, 15), icpc=icpc, res=res)
        la = self.ep["last_asm"][s_ep]  # the enquiry's assessment has started by the time it starts
        self.asm["start"][la] = np.minimum(self.asm["start"][la], s_start)
        self.asm["auth"][la] = _recent_if_open(self.asm["start"][la], self.asm["auth"][la])
        np.maximum.at(self.ep.cols["act"], s_ep, res)
        self.spill = s_idx[spill_out]
        # An enquiry conferencing next year keeps its assessment open until then, so next year's return
        # shows an assessment beside the enquiry (query 2991Q).
        waiting = s_ep[spill_out]
        la = self.ep["last_asm"][waiting]
        recent = wd_between(self.asm["start"][la], end) <= 45 - _MARGIN  # else it would raise 8670Q
        waiting, la = waiting[recent], la[recent]
        auth = self.asm["auth"]
        auth[la] = np.maximum(
            auth[la], add_wd(cand_icpc[spill_out][recent], rng.integers(0, 4, size=len(la)))
        )
        self.ep["act"][waiting] = np.maximum(self.ep["act"][waiting], auth[la])

        # Episode-level conferences: new CIN episodes without an enquiry (transfer-in conferences).
        no_s47 = cin_new[~np.isin(cin_new, new_e)]
        no_s47 = no_s47[self.ep["ref"][no_s47] <= last_wd(end)]
        epi = no_s47[_pick(rng, len(no_s47), n_epi)]
        self._miss("icpc", n_epi - len(epi))
        epi_date = np.minimum(add_wd(self.ep["ref"][epi], rng.integers(1, 16, size=len(epi))), last_wd(end))
        self.ep["icpc"][epi] = epi_date
        self.ep["act"][epi] = np.maximum(self.ep["act"][epi], epi_date)

        # 4. plans on this year's conferences ----------------------------------------------------------
        conf_ep = np.concatenate([self.s47["episode"][spill_in], s_ep[chosen], epi])
        conf_date = np.concatenate([self.s47["icpc"][spill_in], icpc[chosen], epi_date])
        take = self._fill_windows(plan, conf_date, _even_months(rng, conf_date, plan.cpp_start), end)
        self._miss("cpp_start", plan.cpp_start - len(take))
        c_ep, c_start = conf_ep[take], conf_date[take]
        reviews = self._reviews(c_start, plan.late_review)
        c_end = self._cpp_end(c_start, reviews)
        c_idx = self.cpp.append(episode=c_ep, start=c_start, end=c_end, reviews=reviews)
        self.ep["last_cpp"][c_ep] = c_idx

        # Planned closures of the new episodes (NFA close on the day; NIN when assessed).
        e = e_new
        bands = (
            p.cin_duration if not plan.cin_duration else (*p.cin_duration[:2], np.array(plan.cin_duration))
        )
        dur = _stretch_tail(_sample_bands(rng, bands, len(e)), self.k_ep)
        after_plan = rng.choice(3, size=len(e), p=[0.3, 0.5, 0.2])
        gap = rng.integers(np.array([0, 30, 180])[after_plan], np.array([30, 180, 365])[after_plan] + 1)
        lc = self.ep["last_cpp"][e]
        plan_end = np.where(lc >= 0, _gather(self.cpp["end"], lc) + gap, -1)
        kind = self.ep["kind"][e]
        close = np.where(kind == CIN, np.maximum(self.ep["ref"][e] + dur, plan_end), self.ep["ref"][e])
        self.ep["close"][e] = np.maximum(close, self._min_close(e))
        # Carried-over episodes with a new enquiry or plan stay open long enough to hold it.
        touched = np.unique(np.concatenate([old_e, self.s47["episode"][spill_in]]))
        lc = self.ep["last_cpp"][touched]
        plan_end = np.where(
            lc >= 0, _gather(self.cpp["end"], lc) + rng.integers(0, 120, size=len(touched)), -1
        )
        self.ep["close"][touched] = np.maximum.reduce(
            [
                self.ep["close"][touched],
                self._min_close(touched) + rng.integers(0, 60, size=len(touched)),
                plan_end,
            ]
        )

        # 5. children ----------------------------------------------------------------------------------
        self._attach_children(plan, start, e_new)
        # Cases close around the 18th birthday unless something is still going on.
        cin = e_new[self.ep["kind"][e_new] == CIN]
        adult = self.ch["dob"][self.ep["child"][cin]] + _ADULT + rng.integers(0, 120, size=len(cin))
        self.ep["close"][cin] = np.maximum(np.minimum(self.ep["close"][cin], adult), self._min_close(cin))

        # 6. 31 March controls -------------------------------------------------------------------------
        if plan.control:
            self._appear(plan, start, end)
            self._control_cpps(plan, start, end)
            self._control_episodes(plan, start, end)
            self._control_open_bands(plan, start, end)
            self._control_awaiting(plan, start, end)
            self._control_not_in_need(plan, start, end)
            self._close_stale(plan, start, end)
            if next_plan is not None and next_plan.ended >= 0:
                self._control_carry(plan, next_plan, end)
            self._control_ended_bands(plan, start, end)
            if plan.unborn_plan >= 0:
                self._control_unborn(plan, start, end)
            if max(plan.b1_children) >= 0:
                self._control_children(plan, start, end)
            if plan.cpp_end >= 0:
                self._control_cpp_end(plan, start, end)

    # ------------------------------------------------------------------ children
    def _attach_children(self, plan: YearPlan, start: int, e_new: np.ndarray) -> None:
        rng, p = self.rng, self.p
        ch, ep = self.ch, self.ep
        last = ch["last_ep"]
        known = ch.n  # children referred before this year
        keep = last >= 0
        keep[keep] = ep["ref"][last[keep]] >= start - 3 * 365
        # the children who may be re-referred, their latest episode's closure and referral, and their dates
        # of birth (kept up to date as the months attach episodes: gathering them from the whole store every
        # month was an eighth of this step)
        pool = np.flatnonzero(keep)
        lc, lr, pool_dob = ep["close"][last[pool]], ep["ref"][last[pool]], ch["dob"][pool]
        ref = ep["ref"][e_new]
        month = _dt(ref).astype("datetime64[M]").astype(np.int64)
        # the LA's re-referrals exactly: its share of the year's referrals, spread over the months in
        # proportion to their referrals (a month short of candidates leaves the rest to the next)
        wanted, seen, given = round(len(e_new) * plan.rereferral), 0, 0
        # and, where DfE publishes them, its children referred exactly: a re-referral of a child already
        # referred in the year adds a referral but no child, so that many of them (spread the same way)
        # go to children referred earlier in the year, the rest to children last referred before it
        repeats = len(e_new) - plan.referred_children if plan.referred_children >= 0 else -1
        repeated = 0
        # and its children re-referred: a child re-referred twice in the year adds a re-referral but no
        # child, so that many of the repeats go to children re-referred earlier in the year
        twice = wanted - plan.rereferred_children if repeats >= 0 and plan.rereferred_children >= 0 else -1
        twiced, rereferred = 0, np.zeros(ch.n, dtype=bool)
        months, sizes = np.unique(month, return_counts=True)
        # episodes with an enquiry starting in the year, and which children have one so far (carried-over
        # episodes'; the new ones' as they are attached): a child with enquiries on two episodes counts once
        s47 = self.s47
        enquired = np.zeros(ep.n, dtype=bool)  # a mask over episodes: far cheaper than np.isin per month
        enquired[s47["episode"][s47["start"] >= start]] = True
        earlier = enquired.copy()
        earlier[e_new] = False
        enquiry = np.zeros(ch.n, dtype=bool)
        enquiry[ep["child"][np.flatnonzero(earlier)]] = True
        control = plan.s47_children >= 0
        n_enquired = int(enquired.sum())
        cross, crossed, natural = max(n_enquired - plan.s47_children, 0), 0, 0.0
        # and, where DfE publishes them, its children conferenced exactly: a child conferenced on an earlier
        # episode of the year whose new episode has a conference too adds a conference but no child
        doubles, paired = plan.icpc - plan.icpc_children if plan.icpc_children >= 0 else -1, 0
        conf = self._conferenced(plan.year)
        conferenced = np.zeros(ch.n, dtype=bool)
        conferenced[ep["child"][conf & (ep["child"] >= 0)]] = True
        firsts = _int(months.astype("datetime64[M]").astype("datetime64[D]"))
        lasts = np.array([ref[month == m].max() for m in months])
        for i, m in enumerate(months):
            batch = e_new[month == m]
            ms, me = int(firsts[i]), int(lasts[i])  # the month's first day and its last referral
            ok = (lc < ms) & (pool_dob > ms - int(17.5 * 365))
            # within 12 months of the last referral, or more than a year (a leap year's 366 days) after it
            recent = np.flatnonzero(ok & (lr >= me - 365))
            older = np.flatnonzero(ok & (lr < ms - 366))
            n = len(batch)
            seen += n
            k1 = min(round(wanted * seen / len(e_new)) - given, n, len(recent))
            same = lr[recent] >= start
            if repeats >= 0:  # beyond the repeats, only so many may go to children referred before the year
                k1 = min(k1, int(same.sum()) + max(wanted - repeats - (given - repeated), 0))
            given += k1
            k2 = min(int(rng.binomial(n - k1, p.older_rereferral)), len(older))
            carried = (lr[recent] < start) & (lc[recent] >= start)
            log_w = -(ms - lc[recent]) / _REREFERRAL_DAYS + _CARRIED_LOG_ODDS * carried
            score = log_w + _KNOWN_LOG_ODDS * (pool[recent] < known)
            if doubles > paired:  # few children conferenced return within the year: those that can, first
                score = score + _CONFERENCED_LOG_ODDS * conferenced[pool[recent]]
            if repeats < 0:
                r1 = recent[_gumbel_top(rng, score, k1)]
            else:
                before = lr < start
                k = _repeats_now(repeats - repeated, k1, sizes[i + 1 :], wanted / len(e_new), lr[before],
                                 lc[before], firsts[i + 1 :], lasts[i + 1 :])  # fmt: skip
                k = int(np.clip(k, max(k1 - int((~same).sum()), 0), min(k1, int(same.sum()))))
                repeated += k
                if twice >= 0:  # children re-referred earlier in the year (all among ``same``)
                    again = same & rereferred[pool[recent]]
                    t = round((twice - twiced) * k1 / max(wanted - given + k1, 1))
                    t = int(np.clip(t, max(k - int((same & ~again).sum()), 0), min(k, int(again.sum()))))
                    twiced += t
                    picks = [
                        recent[again][_gumbel_top(rng, score[again], t)],
                        recent[same & ~again][_gumbel_top(rng, score[same & ~again], k - t)],
                    ]
                else:
                    picks = [recent[same][_gumbel_top(rng, score[same], k)]]
                r1 = np.concatenate([*picks, recent[~same][_gumbel_top(rng, score[~same], k1 - k)]])
            rereferred[pool[r1]] = True
            r2 = older[_pick(rng, len(older), k2)]
            at = np.concatenate([r1, r2])  # the returning children's places in the pool
            if doubles >= 0:  # children conferenced earlier in the year first: the enquiries' pairing
                # gives them the episodes with an enquiry (where the conferences are) first
                at = at[np.argsort(~conferenced[pool[at]], kind="stable")]
            returning = pool[at]
            has, had = enquired[batch], enquiry[returning]
            natural += had.sum() * has.sum() / n
            if not control:
                slots = rng.permutation(n)
            else:
                # as many children with an enquiry earlier in the year get an episode with one as the LA's
                # children with an enquiry leave (spread over the months like the referrals)
                k = round((cross - crossed) * n / sizes[i:].sum())
                k = int(
                    np.clip(k, max(int(had.sum() - (~has).sum()), 0), min(int(had.sum()), int(has.sum())))
                )
                crossed += k
                slots = _pair(rng, had, has, k)
            back, fresh = batch[slots[: len(returning)]], batch[slots[len(returning) :]]
            back_has = has[slots[: len(returning)]]
            if doubles >= 0:
                k = round((doubles - paired) * n / sizes[i:].sum())
                order, k = _match(rng, conferenced[returning], conf[back], back_has, k)
                at, paired = at[order], paired + k
                returning = pool[at]
            conferenced[returning] |= conf[back]
            enquiry[returning] |= back_has
            ep["child"][back] = returning
            ch["last_ep"][returning] = back
            dob = self._new_dobs(ep["ref"][fresh], ep["close"][fresh], ep["last_cpp"][fresh] >= 0)
            kids = ch.append(dob=dob, last_ep=fresh, first=ep["ref"][fresh])
            ep["child"][fresh] = kids
            lc[at], lr[at] = ep["close"][back], ep["ref"][back]
            pool = np.concatenate([pool, kids])
            lc, lr = np.concatenate([lc, ep["close"][fresh]]), np.concatenate([lr, ep["ref"][fresh]])
            pool_dob = np.concatenate([pool_dob, dob])
            enquiry = np.concatenate([enquiry, has[slots[len(returning) :]]])
            conferenced = np.concatenate([conferenced, conf[fresh]])
            rereferred = np.concatenate([rereferred, np.zeros(len(kids), dtype=bool)])
        self._miss("rereferrals", wanted - given)
        self.s47_cross = natural / max(plan.s47, 1)
        if control:
            self._miss("s47_children", abs(n_enquired - plan.s47_children - crossed))
        if repeats >= 0:
            self._miss("referred_children", abs(repeats - repeated))
        if doubles >= 0:
            self._miss("icpc_children", abs(doubles - paired))
        if twice >= 0:
            self._miss("rereferred_children", abs(twice - twiced))

    def _conferenced(self, year: int) -> np.ndarray:
        """Mask over episodes: an initial conference in reporting ``year``, after an enquiry or not."""
        first, last = day(dt.date(year - 1, 4, 1)), day(dt.date(year, 3, 31))
        s47_icpc, ep_icpc = self.s47["icpc"], self.ep["icpc"]
        out = (ep_icpc >= first) & (ep_icpc <= last)
        out[self.s47["episode"][(s47_icpc >= first) & (s47_icpc <= last)]] = True
        return out

    def _new_dobs(self, ref: np.ndarray, close: np.ndarray, on_plan: np.ndarray) -> np.ndarray:
        """Dates of birth of new children; an episode planned to last more than 2 years goes to a child
        young enough to be under 18 at its end where a few draws allow (long episodes are young children's),
        and a child protected from the start is more often unborn (:attr:`Params.unborn_plan_odds`)."""
        rng = self.rng
        age = _sample_bands(rng, self.p.age_bands, len(ref))
        lo, hi, probs = self.p.age_bands
        boosted = np.where(lo < 0, probs * self.p.unborn_plan_odds, probs)
        age[on_plan] = _sample_bands(rng, (lo, hi, boosted / boosted.sum()), int(on_plan.sum()))
        for _ in range(4):
            old = (close - ref > _LONG) & (close - ref + age > _ADULT)
            if not old.any():
                break
            age[old] = _sample_bands(rng, self.p.age_bands, int(old.sum()))
        return ref - age

    # ------------------------------------------------------------------ 31 March controls
    def _latest(self, e: np.ndarray) -> np.ndarray:
        """True where the episode is its child's latest (only those can be kept open longer)."""
        return self.ch["last_ep"][self.ep["child"][e]] == e

    def _window_targets(self, plan: YearPlan) -> np.ndarray:
        """Plans to leave open at 31 March per :func:`open_window` (windows 0-5), from the D5 bands and
        LAIT's plans open 3 months or more (the 31 December window; 0 where LAIT has no count)."""
        targets = np.zeros(6, dtype=np.int64)
        targets[:5] = plan.cpp_bands
        if plan.cpp_lasted >= 0:
            targets[_DEC31] = min(max(plan.cpp_lasted - sum(plan.cpp_bands[1:]), 0), plan.cpp_bands[0])
            targets[0] -= targets[_DEC31]
        return targets

    def _fill_windows(self, plan: YearPlan, conf_date: np.ndarray, take: np.ndarray, end: int,
                      group: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        """``take``: positions of the year's plan starts (or conferences) on ``conf_date``; where the last 3
        months (or the 3 before them, or 31 December) would have fewer than the plans the LA has open at 31
        March from then, take more of theirs in place of some from April to September (of the same
        ``group``, where given)."""
        if not plan.cpp_bands or len(take) == 0:
            return take
        rng = self.plan_rng
        window = open_window(conf_date, end)
        group = np.zeros(len(conf_date), dtype=np.int64) if group is None else group
        targets = self._window_targets(plan)
        chosen = np.zeros(len(conf_date), dtype=bool)
        chosen[take] = True
        for w in (_DEC31, 0, 1):
            short = int(targets[w] + targets[w] // 25 + (w != _DEC31)) - int((chosen & (window == w)).sum())
            for g in np.unique(group):
                reserve = int((chosen & (window == 2)).sum()) - int(targets[2] + targets[2] // 10 + 1)
                spare = np.flatnonzero(chosen & (window == 2) & (group == g))
                add = np.flatnonzero(~chosen & (window == w) & (group == g))
                k = min(short, len(add), len(spare), reserve)
                if k > 0:
                    chosen[add[_pick(rng, len(add), k)]] = True
                    chosen[spare[_pick(rng, len(spare), k)]] = False
                    short -= k
        return np.flatnonzero(chosen)

    def _on_31_december(self, plan: YearPlan, conf: np.ndarray, s47_start: np.ndarray, chosen: np.ndarray,
                        end: int) -> None:  # fmt: skip
        """Hold the ``chosen`` conferences nearest 31 December (within a week, of enquiries started by then,
        staying in their C4 band) on that day where the plans the LA has open at 31 March from that day
        need more (a working day only, rule 8875)."""
        dec31 = int(add_months(end, -3))
        if not plan.cpp_bands or last_wd(dec31) != dec31:
            return
        need = int(self._window_targets(plan)[_DEC31]) - int((conf[chosen] == dec31).sum())
        near = chosen[
            (np.abs(conf[chosen] - dec31) <= 7) & (conf[chosen] != dec31) & (s47_start[chosen] <= dec31)
        ]
        near = near[
            _icpc_band(s47_start[near], conf[near]) == _icpc_band(s47_start[near], np.full(len(near), dec31))
        ]
        if need > 0 and len(near):
            order = np.lexsort((self.plan_rng.random(len(near)), np.abs(conf[near] - dec31)))
            conf[near[order[:need]]] = dec31

    def _cut_plans(self, cand: np.ndarray, k: int, end: int, what: str) -> None:
        """End ``k`` of the open plans ``cand`` by 31 March (those planned to end soonest most likely), at
        their last review if recent, else within the last 2 months."""
        rng, cpp = self.plan_rng, self.cpp
        c_start, c_end = cpp["start"], cpp["end"]
        cand = cand[c_start[cand] < end]
        sel = cand[_gumbel_top(rng, -(c_end[cand] - end) / 60.0, k)]
        self._miss(what, k - len(sel))
        rev = cpp["reviews"][sel]
        last_rev = np.where((rev <= end) & (rev > c_start[sel, None]), rev, -1).max(axis=1)
        lo = np.maximum(c_start[sel] + 1, end - 60)
        fallback = rng.integers(lo, end + 1)
        c_end[sel] = np.where(last_rev > end - 120, last_rev, fallback)

    def _extend_plans(self, ended: np.ndarray, k: int, end: int, what: str | None) -> int:
        """Keep ``k`` of the plans ``ended`` in the year open over 31 March (those ended latest most
        likely; only a child's latest plan with no conference due next year), to a later review. Returns
        how many were missing (a shortfall ``what``, unless None)."""
        rng, cpp = self.plan_rng, self.cpp
        c_end = cpp["end"]
        e = cpp["episode"][ended]
        due = np.isin(e, self.s47["episode"][self.spill])  # a new plan may start at next year's conference
        ok = (self.ep["last_cpp"][e] == ended) & self._latest(e) & ~due
        ended = ended[ok]
        sel = ended[_gumbel_top(rng, -(end - c_end[ended]) / 60.0, k)]
        if what is not None:
            self._miss(what, k - len(sel))
        rev = cpp["reviews"][sel]
        nxt = np.argmax(rev > end, axis=1) + rng.geometric(0.55, size=len(sel)) - 1
        nxt = np.minimum(nxt, MAX_REVIEWS - 1)
        new_end = rev[np.arange(len(sel)), nxt]
        c_end[sel] = np.where(new_end > end, new_end, end + rng.integers(30, 180, size=len(sel)))
        e = cpp["episode"][sel]
        close = self.ep["close"]
        close[e] = np.maximum(close[e], c_end[sel] + rng.integers(0, 180, size=len(sel)))
        return k - len(sel)

    def _control_cpps(self, plan: YearPlan, start: int, end: int) -> None:
        """Make exactly ``plan.cpp_at31`` plans open at 31 March, and with D5 bands exactly that many in
        each band (by start date: cutting plans of a band short, or keeping plans of that band that ended
        in the year open), then meet the LA's plans ending after 2 years and reviews on time."""
        cpp = self.cpp
        c_start, c_end = cpp["start"], cpp["end"]
        natural = int(((c_start <= end) & (c_end > end)).sum())
        if plan.cpp_bands:
            targets = self._window_targets(plan)
            # plans open in the year (a plan's window depends on its start only)
            live = np.flatnonzero((c_start <= end) & (c_end >= start))
            windows = open_window(c_start[live], end)
            for w in (_DEC31, 0, 1, 2, 3, 4):
                mine = live[windows == w]
                open_ = mine[c_end[mine] > end]
                k = len(open_) - int(targets[w])
                if k > 0:
                    self._cut_plans(open_, k, end, f"cpp_band{w}_cut")
                elif k < 0:
                    ended = mine[(c_end[mine] <= end) & (c_start[mine] < end)]
                    left = self._extend_plans(ended, -k, end, None if w == _DEC31 else f"cpp_band{w}_extend")
                    if w == _DEC31:  # too few plans started on 31 December: the rest from the 3-month band
                        targets[0] += left
        open_ = np.flatnonzero((c_start <= end) & (c_end > end))
        if len(open_) > plan.cpp_at31:
            self._cut_plans(open_, len(open_) - plan.cpp_at31, end, "cpp_at31_cut")
        elif len(open_) < plan.cpp_at31:
            ended = np.flatnonzero((c_end >= start) & (c_end <= end) & (c_start < end))
            self._extend_plans(ended, plan.cpp_at31 - len(open_), end, "cpp_at31_extend")
        if natural > 0 and plan.cpp_at31 > 0:
            self.k_cpp = float(np.clip(self.k_cpp * np.sqrt(plan.cpp_at31 / natural), 0.5, 2.0))
        if plan.cpp_long_end >= 0:
            self._control_long_ends(plan.cpp_long_end, start, end)
        if plan.cpp_lengths:
            self._control_plan_lengths(plan.cpp_lengths, start, end)
        if plan.cpp_on_time >= 0:
            self._control_reviews(plan.cpp_on_time, start, end)

    def _control_long_ends(self, target: int, start: int, end: int) -> None:
        """Make exactly ``target`` plans ending in the year have lasted 2 years or more (D7, LAIT
        CPRDuration) by moving the end of plans whose second anniversary falls in the year to just before
        it or on/after it (never past 31 March or a later plan of the episode; past the episode's closure
        only in the child's latest episode, which then closes later in the year)."""
        rng, cpp = self.plan_rng, self.cpp
        c_start, c_end = cpp["start"], cpp["end"]
        ended = np.flatnonzero((c_end >= start) & (c_end <= end) & (c_start < start))
        two = add_months(c_start[ended], 24)
        long = c_end[ended] >= two
        k = target - int(long.sum())
        movable = (two > start) & (two <= end)
        if k > 0:
            close = self.ep["close"]
            e = cpp["episode"][ended]
            free = ~long & movable & (self.ep["last_cpp"][e] == ended)
            inside = free & (close[e] >= two)
            pick = np.flatnonzero(inside)[_pick(rng, int(inside.sum()), k)]
            # then plans of a child's latest episode, whose closure may follow the plan's new end
            later = np.flatnonzero(free & ~inside & self._latest(e))
            pick = np.concatenate([pick, later[_pick(rng, len(later), k - len(pick))]])
            self._miss("cpp_long_end_more", k - len(pick))
            hi = np.minimum(np.maximum(close[e[pick]], two[pick]), np.minimum(two[pick] + 60, end))
            new_end = rng.integers(two[pick], hi + 1)
            c_end[ended[pick]] = new_end
            close[e[pick]] = np.maximum(
                close[e[pick]], np.minimum(new_end + rng.integers(0, 60, len(pick)), end)
            )
        elif k < 0:
            ok = long & movable
            pick = np.flatnonzero(ok)[_pick(rng, int(ok.sum()), -k)]
            self._miss("cpp_long_end_fewer", -k - len(pick))
            lo = np.maximum(two[pick] - 90, np.maximum(start, c_start[ended[pick]] + 1))
            c_end[ended[pick]] = rng.integers(lo, two[pick])

    def _short_endings(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """D7's plans: those in the year's return ending in it after less than 2 years (a plan ending the
        day it starts has no length), and their band (0: 3 months or less .. 3: 1-2 years)."""
        c_start, c_end = self.cpp["start"], self.cpp["end"]
        ended = np.flatnonzero(
            (c_end >= start) & (c_end <= end) & (c_start < c_end) & (self.cpp["hidden"] < 0)
        )
        band = _band(c_start[ended], c_end[ended])
        return ended[band < 4], band[band < 4]

    def _control_plan_lengths(self, shares: tuple[float, ...], start: int, end: int) -> None:
        """Make the plans ending in the year after less than 2 years fall in D7's bands (3 months or less,
        3-6 months, 6 months to a year, 1-2 years) as ``shares`` say: across each band boundary in turn
        (1 year, 6 months, 3 months), as many plans as the bands above it have too many (too few) end up
        to 60 days before (after) their anniversary instead, inside the year. A plan ends later only as
        its episode's latest, inside the episode or in the child's latest episode, which then closes later
        in the year. Plans ending after 2 years or more (:meth:`_control_long_ends`) stay put."""
        rng, cpp = self.plan_rng, self.cpp
        c_start, c_end = cpp["start"], cpp["end"]
        ended, band = self._short_endings(start, end)
        s = c_start[ended]
        have = np.bincount(band, minlength=4)
        want = np.asarray(largest_remainder(len(ended), list(shares)))
        e = cpp["episode"][ended]
        close = self.ep["close"]
        firsts, lasts = _band_edges(s)  # each band's first and last end day (a plan ends after it starts)
        lower, upper = np.vstack([s + 1, firsts[1:4]]), lasts[:4]
        for t in (3, 2, 1):  # the boundary between bands t - 1 and t, whose first day is firsts[t]
            flow = int((have[t:] - want[t:]).sum())  # > 0: too many at t or above
            if flow == 0:
                continue
            src, dst = (t, t - 1) if flow > 0 else (t - 1, t)
            first = np.maximum.reduce(
                [lower[dst], firsts[t] - 60 if flow > 0 else lower[dst], np.full(len(s), start)]
            )
            last = np.minimum.reduce(
                [upper[dst], firsts[t] + 59 if flow < 0 else upper[dst], np.full(len(s), end)]
            )
            ok = (band == src) & (first <= last)
            if flow < 0:  # a later end: the episode's latest plan, inside it or in the child's latest episode
                ok &= (self.ep["last_cpp"][e] == ended) & ((close[e] >= first) | self._latest(e))
                last = np.where(close[e] >= first, np.minimum(last, close[e]), last)
            ok = np.flatnonzero(ok)
            sel = ok[_pick(rng, len(ok), abs(flow))]
            self._miss(f"cpp_length_band{t}", abs(flow) - len(sel))
            new_end = _day_between(rng, first[sel], last[sel])
            c_end[ended[sel]] = new_end
            close[e[sel]] = np.maximum(close[e[sel]], new_end)
            band[sel] = dst
            have[src] -= len(sel)
            have[dst] += len(sel)

    def _review_status(self, plans: np.ndarray, start: int, end: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """For plans open at 31 March: whether every review interval judged in the year was on time (as
        :func:`cin_assets.measures.units._reviews` judges the return: the first review within 3 months of
        the start, then within 6 months of the previous one, and at 31 March the last review (or the start)
        no more than 6 (3) months before; the first review in the return of a plan started before the year
        is not judged), the first review slot that can be made late (-1: none) and its due date."""
        rev = self.cpp["reviews"][plans]
        s = self.cpp["start"][plans][:, None]
        seen = (rev >= start) & (rev <= end) & (rev > s)
        first = seen & ~np.concatenate([np.zeros((len(plans), 1), dtype=bool), seen[:, :-1]], axis=1)
        prev = np.concatenate([s, rev[:, :-1]], axis=1)
        due = np.where(first, add_months(s, 3), add_months(prev, 6))
        judged = seen & ~(first & (s < start))
        late = judged & (rev > due)
        last = np.where(seen, rev, -1).max(axis=1)
        late_end = np.where(last >= 0, end > add_months(last, 6), end > add_months(s[:, 0], 3))
        on_time = ~(late.any(axis=1) | late_end)
        can = judged & (due < last_wd(end))
        slot = np.where(can.any(axis=1), np.argmax(can, axis=1), -1)
        return on_time, slot, due[np.arange(len(plans)), np.maximum(slot, 0)]

    def _control_reviews(self, target: int, start: int, end: int) -> None:
        """Make exactly ``target`` of the plans open at 31 March that started 3 months or more before have
        every review on time (D6, LAIT CPP_Reviewed_InReqTimeScl): reschedule the year's reviews of late
        ones on time, or hold one review of on-time ones a few working days late. Reviews before the year
        (in earlier returns) are never moved."""
        rng, cpp = self.plan_rng, self.cpp
        c_start, c_end = cpp["start"], cpp["end"]
        lasted = np.flatnonzero((c_start <= end) & (c_end > end))
        lasted = lasted[add_months(c_start[lasted], 3) <= end]
        on_time, slot, due = self._review_status(lasted, start, end)
        k = target - int(on_time.sum())
        rev = cpp["reviews"]
        if k > 0:
            late = lasted[~on_time]
            sel = late[_pick(rng, len(late), k)]
            self._miss("cpp_reviews_on_time", k - len(sel))
            r = rev[sel]
            floor = add_wd(start, 0)
            for j in range(MAX_REVIEWS):
                anchor = c_start[sel] if j == 0 else r[:, j - 1]
                when = add_months(anchor, 3 if j == 0 else 6) - rng.integers(
                    0, 15 if j == 0 else 25, len(sel)
                )
                r[:, j] = np.where(r[:, j] >= start, np.maximum(last_wd(when), floor), r[:, j])
            rev[sel] = r
        elif k < 0:
            ok = np.flatnonzero(on_time & (slot >= 0))
            pick = ok[_pick(rng, len(ok), -k)]
            self._miss("cpp_reviews_late", -k - len(pick))
            sel, j = lasted[pick], slot[pick]
            r = rev[sel]
            rows = np.arange(len(sel))
            new = np.minimum(add_wd(due[pick], rng.integers(1, 15, size=len(sel))), last_wd(end))
            delta = new - r[rows, j]
            after = np.arange(MAX_REVIEWS)[None, :] >= j[:, None]
            rev[sel] = np.where(after, last_wd((r + delta[:, None]).ravel()).reshape(r.shape), r)

    def _control_awaiting(self, plan: YearPlan, start: int, end: int) -> None:
        """Make exactly ``plan.awaiting`` of the year's new episodes open at 31 March wait for their
        assessment: its start moves to early April (the latest referrals first). Only episodes with no
        enquiry, conference or plan qualify (those need the assessment under way). Where too few are open
        (an LA whose enquiries fall on most of its new open cases), :meth:`_reopen_for_awaiting` makes more."""
        rng, ep, asm = self.rng, self.ep, self.asm
        ref, close = ep["ref"], ep["close"]
        new_open = np.flatnonzero((ref >= start) & (ref <= end) & (close > end) & (ep["kind"] != NFA))
        new_open = new_open[ep["last_asm"][new_open] >= 0]
        late_all = new_open[asm["start"][ep["last_asm"][new_open]] > end]
        natural = len(late_all)
        cand = new_open[
            (ep["kind"][new_open] == CIN) & (ep["icpc"][new_open] < 0) & (ep["last_cpp"][new_open] < 0)
        ]
        cand = self._without_enquiry(cand)
        a = ep["last_asm"][cand]
        waiting = asm["start"][a] > end
        k = plan.awaiting - natural
        if k > 0:
            free = cand[~waiting]
            if len(free) < k:
                free = np.concatenate([free, self._reopen_for_awaiting(plan, start, end, k - len(free))])
            sel = free[_gumbel_top(rng, -(end - ref[free]) / 15.0, k)]
            self._miss("awaiting_delay", k - len(sel))
            a = ep["last_asm"][sel]
            new_start = add_wd(end + 1, rng.choice(np.array([0, 1, 2, 3]), size=len(sel)))
            auth = add_wd(new_start, _sample_bands(rng, self.p.assessment_wd, len(sel)))
            asm["start"][a] = new_start
            asm["auth"][a] = _recent_if_open(new_start, auth)
            ep["act"][sel] = np.maximum(ep["act"][sel], asm["auth"][a])
            close[sel] = np.maximum(close[sel], self._min_close(sel))
        elif k < 0:
            # any late assessment may start by 31 March (an episode-level conference's too); referrals
            # after the last working day start theirs on the referral day
            sel = late_all[_pick(rng, len(late_all), -k)]
            self._miss("awaiting_start", -k - len(sel))
            asm["start"][ep["last_asm"][sel]] = np.maximum(ref[sel], last_wd(end))

    def _reopen_for_awaiting(self, plan: YearPlan, start: int, end: int, n: int) -> np.ndarray:
        """Up to ``n`` of the year's children-in-need episodes closed in the year with no enquiry, conference
        or plan (latest referrals first) stay open over 31 March instead, and as many episodes from earlier
        years open at 31 March close in the year, so children in need at 31 March stay exact. As many of
        them are left as :meth:`_control_not_in_need` still needs (they are its pool). Returns the reopened episodes (their
        assessments are then delayed to April by the caller)."""
        rng, ep = self.rng, self.ep
        ref, close = ep["ref"], ep["close"]
        in_year = (ref >= start) & (ref <= end)
        nin = int((in_year & (ep["kind"] == NIN) & (close <= end)).sum())
        reserve = max(round(plan.referrals * plan.nin) - nin, 0)
        shut = np.flatnonzero(
            in_year
            & (close <= end)
            & (ep["kind"] == CIN)
            & (ep["icpc"] < 0)
            & (ep["last_cpp"] < 0)
            & (ep["last_asm"] >= 0)
        )
        shut = self._without_enquiry(shut)
        shut = shut[self._latest(shut) & (self.ch["dob"][ep["child"][shut]] > end - _ADULT)]
        older = np.flatnonzero((ref < start) & (close > end))
        floor = self._min_close(older)
        older, floor = older[floor <= end], floor[floor <= end]
        k = max(min(n, len(shut) - reserve, len(older)), 0)
        back = shut[_gumbel_top(rng, -(end - ref[shut]) / 60.0, k)]
        pick = _pick(rng, len(older), k)
        gone, floor = older[pick], floor[pick]
        self._close_in_march(gone, floor, end)
        adult = self.ch["dob"][ep["child"][back]] + _ADULT
        close[back] = np.minimum(self._past_march(back, end), adult)
        return back

    def _nin_needed(self, plan: YearPlan, start: int, end: int) -> int:
        """How many more of the year's referrals must close as not in need within the year."""
        ep = self.ep
        in_year = (ep["ref"] >= start) & (ep["ref"] <= end)
        natural = int((in_year & (ep["kind"] == NIN) & (ep["close"] <= end)).sum())
        return round(plan.referrals * plan.nin) - natural

    def _nin_candidates(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """The year's children-in-need episodes that could close as not in need instead (closing in the year,
        no enquiry, conference or plan (rule 2990), an assessment authorised by 31 March), with that date."""
        ep, asm = self.ep, self.asm
        ref, close = ep["ref"], ep["close"]
        cand = np.flatnonzero(
            (ref >= start) & (ref <= end) & (ep["kind"] == CIN) & (close <= end) & (ep["icpc"] < 0)
            & (ep["last_cpp"] < 0) & (ep["last_asm"] >= 0)
        )  # fmt: skip
        cand = self._without_enquiry(cand)
        auth = asm["auth"][ep["last_asm"][cand]]
        return cand[auth <= end], auth[auth <= end]

    def _control_not_in_need(self, plan: YearPlan, start: int, end: int) -> None:
        """Make exactly the LA's share of the year's referrals close as assessed not in need (RC8) within
        the year: referrals whose assessment ends after 31 March cannot show it in this return, so as many
        of the year's children-in-need episodes that close in the year with no enquiry, conference or plan
        become not-in-need closures at their assessment's authorisation."""
        rng, ep = self.rng, self.ep
        close, kind = ep["close"], ep["kind"]
        k = self._nin_needed(plan, start, end)
        if k <= 0:
            return
        cand, auth = self._nin_candidates(start, end)
        pick = _pick(rng, len(cand), k)
        self._miss("not_in_need", k - len(pick))
        sel = cand[pick]
        kind[sel] = NIN
        close[sel] = np.maximum(auth[pick], self._min_close(sel))

    def _control_carry(self, plan: YearPlan, nxt: YearPlan, end: int) -> None:
        """Episodes open at 31 March whose assessment, ending next year, finds the child not in need are
        in need at 31 March in this return but not episodes of need in the next one. Their number sets
        next year's episodes ending (ending = open at 1 April and of need + starting - open at 31 March),
        so make it what next year's published figures imply, converting this year's referrals still under
        assessment at 31 March (no enquiry, conference or plan) to or from not-in-need closures; where too
        few are, next year closes as many long-open cases as not in need (:meth:`_close_stale`). Cases open
        a year or more that next year's figures cannot hold (neither open 2 years or more nor ending after a
        year or more, B4 and B5: an LA that reviewed its long-open cases) are such long-open cases first
        (taking every case leaving as one put 430 more endings after 3-6 months in 10 LAs in 2019). Where
        next year's figures hold more cases open 2 years or more (open at its 31 March or ending) than this
        year's return has open a year or more, or more episodes of need than can be carried over, the rest
        appear in its return only, as cases a return left out do (:meth:`_appear`)."""
        rng, ep, asm = self.rng, self.ep, self.asm
        ref, close, kind = ep["ref"], ep["close"], ep["kind"]
        starting = nxt.referrals - round(nxt.referrals * nxt.nfa) - round(nxt.referrals * nxt.nin)
        target = plan.at31 - (nxt.ended - starting + nxt.at31)
        open_ = (ref <= end) & (close > end)
        surplus, old = self._long_open_balance(nxt, open_ & (kind == CIN), end)
        k = target - int((open_ & (kind == NIN)).sum()) + old
        recent = 0
        if k > 0:
            stale = min(k, surplus)
            self._stale, k = stale, k - stale
            free = open_ & (kind == CIN) & (ep["icpc"] < 0) & (ep["last_cpp"] < 0) & (ep["last_asm"] >= 0)
            cand = self._without_enquiry(np.flatnonzero(free))
            a = ep["last_asm"][cand]
            under = asm["auth"][a] > end
            sel = cand[under][_pick(rng, int(under.sum()), k)]
            # then assessments authorised in March are kept open over 31 March instead
            late = ~under & (wd_between(asm["start"][a], end) < 45 - 2 * _MARGIN)
            more = cand[late][_pick(rng, int(late.sum()), k - len(sel))]
            asm["auth"][ep["last_asm"][more]] = add_wd(end + 1, rng.integers(0, 10, size=len(more)))
            sel = np.concatenate([sel, more])
            kind[sel] = NIN
            close[sel] = np.maximum(asm["auth"][ep["last_asm"][sel]], self._min_close(sel))
            self._stale += k - len(sel)  # the rest: long-open cases closed next year (_close_stale)
        elif k < 0:
            cand = np.flatnonzero(open_ & (kind == NIN))
            sel = cand[_pick(rng, len(cand), -k)]
            recent = -k - len(sel)
            kind[sel] = CIN
            dur = _sample_bands(rng, self.p.cin_duration, len(sel))
            close[sel] = np.maximum(close[sel], ref[sel] + dur)
        self._appearing = (old, recent)

    def _long_open_balance(self, nxt: YearPlan, open_: np.ndarray, end: int) -> tuple[int, int]:
        """Episodes open a year or more at 31 March (``open_``) against next year's published figures:
        those still open at its 31 March are 2 years or more (B4), the rest end after a year or more
        (B5). Returns (how many more there are than those can hold, how many fewer than its cases of 2
        years or more, open or ending, need). DfE's figures for some LAs hold fewer (Essex 2019: 1,097
        fewer), for others more (Manchester 2019: 207 more)."""
        if not (nxt.at31_bands and nxt.ended_shares and nxt.ended >= 0):
            return 0, 0
        old = int((_band(self.ep["ref"][np.flatnonzero(open_)], end) >= 3).sum())
        ending = largest_remainder(nxt.ended, list(nxt.ended_shares))
        return max(old - nxt.at31_bands[4] - sum(ending[3:]), 0), max(nxt.at31_bands[4] + ending[4] - old, 0)

    def _appear(self, plan: YearPlan, start: int, end: int) -> None:
        """Add the cases :meth:`_control_carry` found the year's figures hold beyond last year's return:
        children-in-need episodes that began before the year, are in this return and none before it (an
        LA's return that left a case out, or closed it and reopened it later, as DfE's figures show). Those
        making up cases of 2 years or more began over 2 years before the year, the others in the year
        before; the 31 March controls then set their closures like any carried-over case's."""
        (old, recent), self._appearing = self._appearing, (0, 0)
        n = old + recent
        if n == 0:
            return
        rng, p = self.rng, self.p
        ref = np.concatenate(
            [start - 731 - rng.integers(0, 730, size=old), start - 1 - rng.integers(0, 365, size=recent)]
        )
        dur = _sample_bands(rng, p.cin_duration, n)
        close = np.where(ref + dur >= start, ref + dur, start + rng.integers(0, 2 * 365, size=n))
        dob = np.maximum(self._new_dobs(ref, close, np.zeros(n, dtype=bool)), start - 17 * 365)
        close = np.maximum(np.minimum(close, dob + _ADULT + rng.integers(0, 120, size=n)), start)
        e = self.ep.append(ref=ref, close=close, kind=np.full(n, CIN), act=ref, shown=np.full(n, plan.year))
        self.ep["child"][e] = self.ch.append(dob=dob, last_ep=e, first=ref)
        self._assessments(e, ref)
        self.ep["close"][e] = np.maximum(close, self.ep["act"][e])  # never before its assessment ends

    def _close_stale(self, plan: YearPlan, start: int, end: int) -> None:
        """Close as not in need the year's share of last year's open cases that its not-in-need closures
        could not take (:meth:`_control_carry`): cases open at 1 April, ending in the year with nothing
        going on in it, reassessed before closing, as a review of long-open cases does (DfE's figures hold
        fewer of them than the year before had open: West Sussex 2019, 1,530 open a year or more). They
        leave the year's episodes of need, so they are taken from the B5 bands with more endings than the
        LA's CINCease shares of the rest first."""
        k, self._stale = self._stale, 0
        if k <= 0:
            return
        rng, ep = self.rng, self.ep
        ref, close, kind = ep["ref"], ep["close"], ep["kind"]
        every, have = self._endings(start, end)
        # nothing in the year: no enquiry, conference or plan in its return (rule 2990 forbids them on RC8),
        # nor an episode-level conference (every return of the episode shows its date)
        cand = every[(ref[every] < start) & (ep["icpc"][every] < 0)]
        cand = cand[self._min_close(cand) < start]
        rank = np.ones(len(cand), dtype=np.int64)
        if plan.ended_shares:
            want = np.asarray(largest_remainder(len(every) - k, list(plan.ended_shares)))
            band = _band(ref[cand], close[cand])
            for b in range(5):
                over = np.flatnonzero(band == b)
                rank[over[_pick(rng, len(over), int(have[b] - want[b]))]] = 0
        old = cand[np.lexsort((rng.random(len(cand)), rank))][:k]
        self._miss("carry_nin", k - len(old))
        # an assessment ending on the closure day, started in the year (after the case's last activity)
        length = _sample_bands(rng, self.assessment_wd, len(old))
        began = np.clip(add_wd(close[old], -length), start, close[old])
        ep["last_asm"][old] = self.asm.append(episode=old, start=began, auth=close[old])
        ep["act"][old] = close[old]
        kind[old] = NIN

    def _endings(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """The episodes of need ending in the year (``start`` to ``end``), and their number per B5 band."""
        ref, close = self.ep["ref"], self.ep["close"]
        ended = np.flatnonzero((close >= start) & (close <= end) & (self.ep["kind"] == CIN) & (ref <= end))
        return ended, np.bincount(_band(ref[ended], close[ended]), minlength=5)

    def _close_in_march(self, e: np.ndarray, floor: np.ndarray, end: int) -> None:
        """Close episodes ``e``, open over 31 March, in the year's last 3 months instead (never before
        ``floor``, their last activity or plan, nor their referral)."""
        target = end - self.rng.integers(0, 91, size=len(e))
        self.ep["close"][e] = np.minimum(np.maximum.reduce([target, floor, self.ep["ref"][e]]), end)

    def _past_march(self, e: np.ndarray, end: int) -> np.ndarray:
        """Closure dates for episodes ``e`` kept open over 31 March: half a drawn episode length after it."""
        return end + 1 + _sample_bands(self.rng, self.p.cin_duration, len(e)) // 2

    def _reopenable(self, plan: YearPlan, start: int, end: int, k: int) -> np.ndarray:
        """Children-in-need episodes closed in the year that could stay open over 31 March instead (the
        child's latest, not yet an adult), less the earliest closing ones the not-in-need control will need
        where ``k`` of them can be spared."""
        ep = self.ep
        close = ep["close"]
        shut = np.flatnonzero((close >= start) & (close <= end) & (ep["kind"] == CIN))
        shut = shut[self._latest(shut) & (self.ch["dob"][ep["child"][shut]] > end - _ADULT)]
        nin_cand, _ = self._nin_candidates(start, end)
        reserve = min(max(self._nin_needed(plan, start, end), 0), max(len(shut) - k, 0))
        reserved = nin_cand[np.argsort(close[nin_cand], kind="stable")[:reserve]]
        return shut[~np.isin(shut, reserved)]

    def _control_open_bands(self, plan: YearPlan, start: int, end: int) -> None:
        """Make the episodes open at 31 March fall in B4's duration bands as the LA's LAIT CINTime shares
        say, keeping their number: in each band with too many, the episodes closing soonest after 31 March
        close in March instead; in each band with too few, episodes of that age closed in the year nearest
        31 March stay open. As many close as stay open, so the year's endings (B1) and next year's open
        cases keep their numbers; the endings move between duration bands the same way (B5)."""
        if not plan.at31_bands:
            return
        rng, ep = self.rng, self.ep
        ref, close = ep["ref"], ep["close"]
        open_ = np.flatnonzero((ref <= end) & (close > end))
        floor = self._min_close(open_)
        cuttable = open_[floor <= end]
        cut_band = _band(ref[cuttable], end)
        have = np.bincount(_band(ref[open_], end), minlength=5)
        want = np.asarray(plan.at31_bands)
        surplus = np.minimum(np.maximum(have - want, 0), np.bincount(cut_band, minlength=5))
        shut = self._reopenable(plan, start, end, int(np.maximum(want - have, 0).sum()))
        shut_band = _band(ref[shut], end)
        deficit = np.minimum(np.maximum(want - have, 0), np.bincount(shut_band, minlength=5))
        k = int(min(surplus.sum(), deficit.sum()))
        if k == 0:
            return
        cut = np.concatenate(
            [
                (c := cuttable[cut_band == b])[_gumbel_top(rng, -(close[c] - end) / 90.0, n)]
                for b, n in enumerate(_trim(surplus, k))
            ]
        )
        keep = np.concatenate(
            [
                (c := shut[shut_band == b])[_gumbel_top(rng, -(end - close[c]) / 90.0, n)]
                for b, n in enumerate(_trim(deficit, k))
            ]
        )
        self._close_in_march(cut, self._min_close(cut), end)
        close[keep] = self._past_march(keep, end)

    def _control_ended_bands(self, plan: YearPlan, start: int, end: int) -> None:
        """Make the episodes of need ending in the year fall in B5's duration bands as the LA's LAIT
        CINCease shares say. Each band boundary (3 and 6 months, 1 and 2 years) must be crossed by as many
        endings as the shares above it leave over, so closure dates move across each boundary in turn (never
        before an episode's last activity or plan, nor after 31 March or the months after the 18th
        birthday); where too few can, the choice of which cases stay open at 31 March moves the rest
        (:meth:`_swap_open`). The year's endings keep their number, B4 its bands, and every other year-end
        figure its value."""
        if not plan.ended_shares:
            return
        rng, ep = self.rng, self.ep
        ref, close = ep["ref"], ep["close"]
        ended, have = self._endings(start, end)
        want = np.asarray(largest_remainder(int(have.sum()), list(plan.ended_shares)))
        cand = ended[self._latest(ended)]
        lo = np.maximum.reduce([self._min_close(cand), np.full(len(cand), start), ref[cand]])
        hi = np.minimum(end, self.ch["dob"][ep["child"][cand]] + _ADULT + 120)
        cand, lo, hi = cand[lo <= hi], lo[lo <= hi], hi[lo <= hi]
        edges = _band_edges(ref[cand])  # first and last closing day of each band, per episode
        band = _band(ref[cand], close[cand])
        for t in (4, 3, 2, 1):  # the boundary between bands t - 1 and t
            flow = int((have[t:] - want[t:]).sum())  # > 0: too many endings at t or above
            s, d = (t, t - 1) if flow > 0 else (t - 1, t)
            first, last = np.maximum(edges[0][d], lo), np.minimum(edges[1][d], hi)
            ok = np.flatnonzero((band == s) & (first <= last))
            sel = ok[_pick(rng, len(ok), abs(flow))]
            close[cand[sel]] = _day_between(rng, first[sel], last[sel])
            band[sel] = d
            stay = self._swap_open(t, abs(flow) - len(sel), cand[band == s], start, end, down=flow > 0)
            band[np.isin(cand, stay)] = -1  # open at 31 March now
            have[s] -= len(sel) + len(stay)
            have[d] += len(sel) + len(stay)

    def _swap_open(self, t: int, k: int, ended: np.ndarray, start: int, end: int, down: bool) -> np.ndarray:
        """Move ``k`` endings across B5's band boundary ``t`` (down: from band ``t`` to ``t - 1``; else
        up) without changing B4, by choosing which cases stay open at 31 March: a case open at 31 March in
        band ``t`` that crossed the boundary in the year closes before it (down; up: after it), and one of
        ``ended`` (band ``t``; up: ``t - 1``) that would be in band ``t`` at 31 March stays open instead.
        Across 2 years this is the only way: every case open 2 years or more at 31 March was open a year
        or more at 1 April. Returns those kept open."""
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        rng, ep = self.rng, self.ep
        ref, close = ep["ref"], ep["close"]
        open_ = np.flatnonzero((ref <= end) & (close > end) & (ep["kind"] == CIN))
        open_ = open_[_band(ref[open_], end) == t]
        edges = _band_edges(ref[open_])
        floor = np.maximum(self._min_close(open_), start)
        if down:
            first, last = np.maximum(floor, edges[0][t - 1]), edges[1][t - 1]
        else:
            first, last = np.maximum(floor, edges[0][t]), np.full(len(open_), end)
        keep = ended[(_band(ref[ended], end) == t) & (self.ch["dob"][ep["child"][ended]] > end - _ADULT)]
        ok = np.flatnonzero(first <= last)
        n = min(k, len(ok), len(keep))
        shut = ok[_pick(rng, len(ok), n)]
        stay = keep[_gumbel_top(rng, -(end - close[keep]) / 90.0, n)]
        close[open_[shut]] = _day_between(rng, first[shut], last[shut])
        close[stay] = self._past_march(stay, end)
        return stay

    def _b1_children(self, year: int, start: int, end: int) -> np.ndarray:
        """Per child, its episodes of need in ``year``'s return (rows: starting, open at any point, and
        ending in the year): not NFA, not closed as not in need in the year (one whose not-in-need closure
        comes after 31 March is still open in this return), referred by 31 March, and in the return."""
        ep = self.ep
        ref, close, kind = ep["ref"], ep["close"], ep["kind"]
        of_need = ((kind == CIN) | ((kind == NIN) & (close > end))) & (ref <= end) & (close >= start)
        of_need &= ep["shown"] <= year
        sets = (of_need & (ref >= start), of_need, of_need & (close <= end))
        return np.stack([np.bincount(ep["child"][m], minlength=self.ch.n) for m in sets])

    def _control_children(self, plan: YearPlan, start: int, end: int) -> None:
        """Make B1's children starting, in need at any point and ending an episode of need in the year the
        LA's published counts (``plan.b1_children``; -1: any). Which children have two episodes of need in
        a year is the draws', so the counts are met by swapping which of the year's short episodes close as
        not in need: an episode of need that could have (:meth:`_nin_candidates`) closes as not in need at
        its assessment, and a not-in-need closure of the same B5 band becomes an episode of need closing on
        the same day. Every count of episodes (starting, at any point, ending, per band, not in need) stays;
        a count of children moves where the child leaving it had no other episode in it, or the child
        joining it had none. How many swaps of each kind (band, and which counts each child leaves or
        joins) is a small integer programme (:func:`_swap_counts`); a round touches a child once, so its
        swaps move the counts as planned, and the next round mends what distinct children left short."""
        rng, ep = self.children_rng, self.ep
        ref, close, kind, child = ep["ref"], ep["close"], ep["kind"], ep["child"]
        wanted = np.array(plan.b1_children)
        need = np.zeros(3, dtype=np.int64)
        for _ in range(_CHILDREN_ROUNDS):
            per_child = self._b1_children(plan.year, start, end)
            need = np.where(wanted >= 0, wanted - (per_child > 0).sum(axis=1), 0)
            if not need.any():
                break
            x, auth = self._nin_candidates(start, end)
            y = np.flatnonzero((ref >= start) & (close <= end) & (kind == NIN) & (ep["shown"] <= plan.year))
            # the counts an episode of need's child leaves with it, and a not-in-need closure's child joins
            x_type = _band(ref[x], close[x]) * 8 + (per_child[:, child[x]] == 1).T @ _SETS
            y_type = _band(ref[y], close[y]) * 8 + (per_child[:, child[y]] == 0).T @ _SETS
            x_order, y_order = _distinct(rng, x_type, child[x]), _distinct(rng, y_type, child[y])
            take_x, take_y, left = _swap_counts(
                need, wanted >= 0, np.bincount(x_type[x_order], minlength=40),
                np.bincount(y_type[y_order], minlength=40),
            )  # fmt: skip
            if not take_x.any():
                break
            used, whole = np.zeros(self.ch.n, dtype=bool), True
            for b in range(5):  # within a band, any episode of need swaps with any not-in-need closure
                picked = []
                for order, types, eps, take in ((x_order, x_type, x, take_x), (y_order, y_type, y, take_y)):
                    part = []
                    for t in np.flatnonzero(take[b * 8 : b * 8 + 8]) + b * 8:
                        part.append(order[(types[order] == t) & ~used[child[eps[order]]]][: take[t]])
                        used[child[eps[part[-1]]]] = True
                    picked.append(np.concatenate(part) if part else np.zeros(0, dtype=np.int64))
                xs, ys = picked
                n = min(len(xs), len(ys))
                whole &= n == take_x[b * 8 : b * 8 + 8].sum()
                xs, ys = xs[:n], ys[:n]
                kind[x[xs]] = NIN
                close[x[xs]] = np.maximum(auth[xs], self._min_close(x[xs]))
                kind[y[ys]] = CIN
            if whole:  # every swap planned was made: the counts are where the programme put them
                need = left
                break
        self._miss("b1_children", int(np.abs(need).sum()))

    def _control_cpp_end(self, plan: YearPlan, start: int, end: int) -> None:
        """Make the plans ending in the year in its return the LA's count (D1, derived from LAIT). With the
        plans starting and open at both year ends exact, the plans ending are what those leave, where
        DfE's figures for most LAs have a few fewer: plans open at the last 31 March that the year's return
        leaves out (a child gone from the LA before it, an LA's record of a closed case). As many of the
        plans open at 1 April ending in the year, short of 2 years (CPRDuration counts those), are left out
        of this year's return (``hidden``), from D7's bands so that the rest still fall in them as the LA's
        shares say (:meth:`_control_plan_lengths`). Where DfE's figures have more, plans missing from last
        year's return would be needed, which the history does not make (a shortfall)."""
        rng, cpp = self.plan_rng, self.cpp
        c_start, c_end, hidden = cpp["start"], cpp["end"], cpp["hidden"]
        k = int(((c_end >= start) & (c_end <= end) & (hidden < 0)).sum()) - plan.cpp_end
        self._miss("cpp_end_appear", -k)
        if k <= 0:
            return
        short, band = self._short_endings(start, end)
        have = np.bincount(band, minlength=4)
        old = c_start[short] < start
        free = np.bincount(band[old], minlength=4)
        take = have - np.asarray(largest_remainder(len(short) - k, list(plan.cpp_lengths or have)))
        if (take < 0).any() or (take > free).any():  # the bands cannot all keep their shares
            take = np.asarray(largest_remainder(min(k, int(free.sum())), free.tolist()))
        picked = np.concatenate(
            [short[old & (band == b)][_pick(rng, int(free[b]), int(take[b]))] for b in range(4)]
        )
        self._miss("cpp_end_hide", k - len(picked))
        hidden[picked] = plan.year

    def _control_unborn(self, plan: YearPlan, start: int, end: int) -> None:
        """Make exactly ``plan.unborn_plan`` of the children on a plan at 31 March unborn then, and
        ``plan.unborn_other`` of the other children in need (A4/A5 count unborn children; drawn ages left
        England 3% off either way by seed). Only dates of birth move, and only of children first referred
        in the year (in no earlier return): the youngest born ones are born after 31 March instead, within
        :data:`_GESTATION` days of their first referral; the unborn ones nearest their birth are born in
        the last weeks before it (on or after their first referral, within 120 days of 31 March). Either
        way the child is born by next 31 March, so next year's return shows the date of birth."""
        rng, ep, ch = self.unborn_rng, self.ep, self.ch
        open_ = np.flatnonzero((ep["ref"] <= end) & (ep["close"] > end))
        lc = ep["last_cpp"][open_]
        planned = (lc >= 0) & (_gather(self.cpp["start"], lc) <= end) & (_gather(self.cpp["end"], lc) > end)
        dob, first = ch["dob"], ch["first"]
        for kids, target, what in (
            (ep["child"][open_[planned]], plan.unborn_plan, "unborn_plan"),
            (ep["child"][open_[~planned]], plan.unborn_other, "unborn_other"),
        ):
            unborn = dob[kids] > end
            k = target - int(unborn.sum())
            if k > 0:
                free = kids[~unborn & (first[kids] >= start) & (first[kids] > end - _GESTATION)]
                sel = free[_gumbel_top(rng, (dob[free] - end) / 60.0, k)]
                dob[sel] = rng.integers(end + 1, first[sel] + _GESTATION + 1)
            elif k < 0:
                born = kids[unborn]
                sel = born[_gumbel_top(rng, -(dob[born] - end) / 60.0, -k)]
                dob[sel] = rng.integers(np.minimum(np.maximum(first[sel], end - 120), end), end + 1)
            else:
                continue
            self._miss(what, abs(k) - len(sel))

    def _control_episodes(self, plan: YearPlan, start: int, end: int) -> None:
        rng, ep = self.rng, self.ep
        ref, close = ep["ref"], ep["close"]
        open_ = np.flatnonzero((ref <= end) & (close > end))
        natural = len(open_)
        if natural > plan.at31:
            floor = self._min_close(open_)
            free = open_[floor <= end]
            floor = floor[floor <= end]
            k = natural - plan.at31
            pick = _gumbel_top(rng, -(close[free] - end) / 90.0, k)
            self._miss("at31_cut", k - len(pick))
            self._close_in_march(free[pick], floor[pick], end)
        elif natural < plan.at31:
            k = plan.at31 - natural
            shut = self._reopenable(plan, start, end, k)
            sel = shut[_gumbel_top(rng, -(end - close[shut]) / 90.0, k)]
            if len(sel) < k:  # convert recent "not in need" closures into continuing cases
                nin = np.flatnonzero((close >= start) & (close <= end) & (ep["kind"] == NIN))
                nin = nin[self._latest(nin)]
                counted = ref[nin] >= start  # this year's not-in-need referrals: the last resort
                more = nin[_gumbel_top(rng, -(end - close[nin]) / 90.0 - _KEPT * counted, k - len(sel))]
                ep["kind"][more] = CIN
                sel = np.concatenate([sel, more])
            self._miss("at31_extend", k - len(sel))
            close[sel] = self._past_march(sel, end)
        if natural > 0 and plan.at31 > 0:
            self.k_ep = float(np.clip(self.k_ep * (plan.at31 / natural) ** 0.75, 0.1, 8.0))
