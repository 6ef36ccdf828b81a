"""Reporting years, census periods and working days, as the DfE computes them.

Reporting year Y (the census ``Year`` 2020 = collection 2019-20) runs from 1 April Y-1 to 31 March Y,
both ends inclusive. Working days are Monday to Friday excluding England and Wales bank holidays.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import polars as pl

FIRST_YEAR = 2013
LAST_YEAR = 2026  # adding a year: extend this (and add its returns and reference rows)
REPORTING_YEARS: tuple[int, ...] = tuple(range(FIRST_YEAR, LAST_YEAR + 1))


def bank_holidays(first: int, last: int) -> tuple[dt.date, ...]:
    """England and Wales bank holidays on a weekday (substitute days included), calendar years ``first`` to
    ``last``, from the pinned ``holidays`` package: maintained upstream, so new years and one-off days
    (jubilees, a state funeral, a coronation) need no hand-typed table."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first, last + 1))
    return tuple(sorted(day for day in days if day.weekday() < 5))


# From five years before the first reporting year (episodes open that long) to two calendar years after the
# last (working-day deadlines run past 31 March): follows LAST_YEAR, so adding a year needs nothing here.
BANK_HOLIDAYS: tuple[dt.date, ...] = bank_holidays(FIRST_YEAR - 5, LAST_YEAR + 2)
_HOLIDAYS_NP = np.array(BANK_HOLIDAYS, dtype="datetime64[D]")


def census_period(year: int) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of reporting year ``year``."""
    return dt.date(year - 1, 4, 1), dt.date(year, 3, 31)


def reference_date(year: int) -> dt.date:
    """The census ReferenceDate: 31 March of the collection year."""
    return dt.date(year, 3, 31)


def in_year(date: pl.Expr, year: int) -> pl.Expr:
    """True where ``date`` falls inside reporting year ``year`` (null dates give false)."""
    start, end = census_period(year)
    return date.is_between(start, end, closed="both").fill_null(False)


def working_days(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Working days from ``start`` to ``end``: the DfE counts the day after the start up to the end.

    A conference held on the working day after the enquiry started is 1 working day later; the same day
    is 0. Implemented with polars' business-day count (end exclusive), shifted by one day to match.
    """
    return pl.business_day_count(
        start.dt.offset_by("1d"), end.dt.offset_by("1d"), holidays=list(BANK_HOLIDAYS)
    )


def is_working_day(date: pl.Expr) -> pl.Expr:
    """True on Monday to Friday outside bank holidays."""
    return (date.dt.weekday() <= 5) & ~date.is_in(list(BANK_HOLIDAYS))


def working_days_np(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`working_days` for datetime64[D] arrays (the generator works in NumPy)."""
    return np.busday_count(start + 1, end + 1, holidays=_HOLIDAYS_NP)


def add_working_days_np(start: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The date ``days`` working days after ``start`` (rolled forward from a non-working start)."""
    return np.busday_offset(start, days, roll="forward", holidays=_HOLIDAYS_NP)
