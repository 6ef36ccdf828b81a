"""Bank holidays and working days for every reporting year the project supports (2013-2027)."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from cin_assets.census import calendar

# The hand-typed gov.uk table the project used up to 2022 (England and Wales), kept to prove the package
# gives the same working days where they overlap.
OLD_TABLE = """
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
# gov.uk/bank-holidays, England and Wales, 2023-2027 (the coronation on 8 May 2023; 2026 and 2027 have
# substitute days for Boxing Day and Christmas falling at the weekend).
GOV_UK_2023_2027 = """
2023-01-02 2023-04-07 2023-04-10 2023-05-01 2023-05-08 2023-05-29 2023-08-28 2023-12-25 2023-12-26
2024-01-01 2024-03-29 2024-04-01 2024-05-06 2024-05-27 2024-08-26 2024-12-25 2024-12-26
2025-01-01 2025-04-18 2025-04-21 2025-05-05 2025-05-26 2025-08-25 2025-12-25 2025-12-26
2026-01-01 2026-04-03 2026-04-06 2026-05-04 2026-05-25 2026-08-31 2026-12-25 2026-12-28
2027-01-01 2027-03-26 2027-03-29 2027-05-03 2027-05-31 2027-08-30 2027-12-27 2027-12-28
"""
EXPECTED = tuple(dt.date.fromisoformat(d) for d in (OLD_TABLE + GOV_UK_2023_2027).split())


def test_the_package_matches_the_old_table_on_every_day_2008_2022() -> None:
    old = [d for d in EXPECTED if d.year <= 2022]
    assert calendar.bank_holidays(2008, 2022) == tuple(old)


@pytest.mark.parametrize("year", range(2013, 2028))
def test_bank_holidays_of_each_reporting_year(year: int) -> None:
    start, end = calendar.census_period(year)
    assert (start, end) == (dt.date(year - 1, 4, 1), dt.date(year, 3, 31))
    holidays = [d for d in calendar.bank_holidays(year - 1, year) if start <= d <= end]
    assert holidays == [d for d in EXPECTED if start <= d <= end]
    assert holidays, "every year has Christmas and New Year"


def test_project_calendar_covers_every_reporting_year_and_two_years_after() -> None:
    years = {d.year for d in calendar.BANK_HOLIDAYS}
    assert set(range(calendar.FIRST_YEAR - 5, calendar.LAST_YEAR + 3)) == years
    # the hand-checked table (old table plus gov.uk) runs to 2027: every listed date is there, and the
    # package gives the same set wherever the table has the year
    known = {d.year for d in EXPECTED}
    assert {d for d in calendar.BANK_HOLIDAYS if d.year in known} == {d for d in EXPECTED if d.year in years}


def test_working_days_2008_2022_are_unchanged() -> None:
    rng = np.random.default_rng(7)
    first, last = np.datetime64("2008-01-01"), np.datetime64("2022-12-01")
    start = first + rng.integers(0, int((last - first).astype(int)), 5_000).astype("timedelta64[D]")
    end = start + rng.integers(0, 400, 5_000).astype("timedelta64[D]")
    end = np.minimum(end, np.datetime64("2022-12-31"))
    old = np.array([d for d in EXPECTED if d.year <= 2022], dtype="datetime64[D]")
    expected = np.busday_count(start + 1, end + 1, holidays=old)
    assert (calendar.working_days_np(start, end) == expected).all()
    frame = pl.DataFrame({"start": start, "end": end}).with_columns(
        days=calendar.working_days(pl.col("start"), pl.col("end"))
    )
    assert (frame["days"].to_numpy() == expected).all()
