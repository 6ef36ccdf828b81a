"""Reporting years, census periods and working days, as the DfE computes them.

Reporting year Y (the census ``Year`` 2020 = collection 2019-20) runs from 1 April Y-1 to 31 March Y,
both ends inclusive. Working days are Monday to Friday excluding England and Wales bank holidays.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

FIRST_YEAR = 2013
LAST_YEAR = 2026  # adding a year: extend this (and add its returns and reference rows)
REPORTING_YEARS: tuple[int, ...] = tuple(range(FIRST_YEAR, LAST_YEAR + 1))

# England and Wales bank holidays (gov.uk), wide enough for every date a 2013-2021 return can hold.
_BANK_HOLIDAYS = """
2008-01-01 2008-03-21 2008-03-24 2008-05-05 2008-05-26 2008-08-25 2008-12-25 2008-12-26
2009-01-01 2009-04-10 2009-04-13 2009-05-04 2009-05-25 2009-08-31 2009-12-25 2009-12-28
2010-01-01 2010-04-02 2010-04-05 2010-05-03 2010-05-31 2010-08-30 2010-12-27 2010-12-28
2011-01-03 2011-04-22 2011-04-25 2011-04-29 2011-05-02 2011-05-30 2011-08-29 2011-12-26 2011-12-27
2012-01-02 2012-04-06 2012-04-09 2012-05-07 2012-06-04 2012-06-05 2012-08-27 2012-12-25 2012-12-26
2013-01-01 2013-03-29 2013-04-01 2013-05-06 2013-05-27 2013-08-26 2013-12-25 2013-12-26
2014-01-01 2014-04-18 2014-04-21 2014-05-05 2014-05-26 2014-08-25 2014-12-25 2014-12-26
2015-01-01 2015-04-03 2015-04-06 2015-05-04 2015-05-25 2015-08-31 2015-12-25 2015-12-28
2016-01-01 2016-03-25 2016-03-28 2016-05-02 2016-05-30 2016-08-29 2016-12-26 2016-12-27
2017-01-02 2017-04-14 2017-04-17 2017-05-01 2017-05-29 2017-08-28 2017-12-25 2017-12-26
2018-01-01 2018-03-30 2018-04-02 2018-05-07 2018-05-28 2018-08-27 2018-12-25 2018-12-26
2019-01-01 2019-04-19 2019-04-22 2019-05-06 2019-05-27 2019-08-26 2019-12-25 2019-12-26
2020-01-01 2020-04-10 2020-04-13 2020-05-08 2020-05-25 2020-08-31 2020-12-25 2020-12-28
2021-01-01 2021-04-02 2021-04-05 2021-05-03 2021-05-31 2021-08-30 2021-12-27 2021-12-28
2022-01-03 2022-04-15 2022-04-18 2022-05-02 2022-06-02 2022-06-03 2022-08-29 2022-09-19 2022-12-26
2022-12-27
"""
BANK_HOLIDAYS: tuple[dt.date, ...] = tuple(dt.date.fromisoformat(d) for d in _BANK_HOLIDAYS.split())
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
