"""One description format for all 28 published data sets.

A :class:`DataSet` says everything the pipeline needs to build, protect, check, write and document one
EES file: its columns (geography, filters, indicators), each indicator's unit, definition and how it is
derived, and the additive structure that disclosure control and its audit need (which columns and rows
sum to which totals, and which cells are the same statistic in several files, and which :class:`Relation` hold between statistics by definition).

The frames that flow between the stages have one shape per data set and reporting year:

- *unprotected* (built by ``measures``): the EES geography columns for the data set's level
  (:data:`NATIONAL_COLUMNS` or :data:`LA_COLUMNS`, all strings), then ``category`` when the data set has
  one, then the filter columns (strings), then one column per indicator: counts and populations ``Int64``,
  percentages, rates and day statistics ``Float64`` computed from unrounded counts. ``null`` means not
  available (published ``:``/``x``); rows where an indicator does not apply are marked by
  ``Indicator.applies`` (published ``z``).
- *published* (built by ``disclosure``): the same columns and rows, every indicator column a string holding
  the protected, rounded value or a symbol.

Geography sums are implied by ``geography == "la"``: England is the sum of the 9 regions (E12), London
(E12000007) is Inner London (E13000001) plus Outer London (E13000002), and each region (or Inner/Outer
London) is the sum of the LAs whose ``region_code`` it is. They hold for every count indicator on
unrounded values.

How each value is measured is part of the same description: a count indicator's :class:`Count` rule (a
filter over a unit table of the measures stage, ``cin_assets.measures.units``), a days statistic's
:class:`Statistic` rule, a data set's :class:`Row` predicates for its filter rows, and a national summary's
:class:`Republished` rows (England figures of other data sets, shown as one row per statistic).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

Unit = Literal["count", "percent", "rate", "days", "population"]
Geography = Literal["national", "la"]
Evidence = Literal["2020 release", "later release", "inferred"]

NATIONAL_COLUMNS: tuple[str, ...] = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
)
LA_COLUMNS: tuple[str, ...] = (
    *NATIONAL_COLUMNS,
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
)

_DECIMALS: dict[str, int] = {"count": 0, "percent": 1, "rate": 1, "days": 0, "population": 0}
_EES_UNITS: dict[str, str] = {"count": "", "percent": "%", "rate": "", "days": "", "population": ""}


@dataclass(frozen=True)
class Count:
    """How a count indicator is measured: the rows of unit table ``table`` where ``where`` holds, or with
    ``children=True`` the distinct children among them.

    ``available`` (optional) marks the unit rows whose LA can report the statistic (e.g. re-referrals need
    the LA's previous census); a geography none of whose rows is available gets null (not available)."""

    table: str
    where: pl.Expr = field(compare=False)
    children: bool = False
    available: pl.Expr | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Statistic:
    """How a days statistic is measured: the ``quantile`` (linear interpolation) of ``value`` over the rows
    of unit table ``table`` where ``where`` holds, computed per geography from the unit rows."""

    table: str
    where: pl.Expr = field(compare=False)
    value: pl.Expr = field(compare=False)
    quantile: float


@dataclass(frozen=True)
class Indicator:
    """One published measure column.

    - ``count``: a number of episodes, children, plans ... Disclosure suppresses 1..5 and rounds England
      and regional values to the nearest 10.
    - ``percent``: ``100 * numerator / denominator`` (both count indicators of the same row).
    - ``rate``: ``10_000 * numerator / ONS 0-17 population`` (numerator a count indicator of the row).
    - ``days``: a duration statistic (median, quartile) of the items counted by ``of``.
    - ``population``: a published population figure (never suppressed).

    A percentage, rate or statistic is suppressed whenever a count it derives from is.
    ``measure`` links cells across files: two count cells with the same measure, year, geography and
    filter values (a filter at its ``total`` value counts as no filter) are one statistic and must be
    published identically. It defaults to the column name.

    ``rule`` says how a count or days statistic is measured (percentages and rates follow from
    ``numerator``/``denominator``); ``grouping`` is the EES ``indicator_grouping`` sub-heading.
    ``source`` cites the DfE text the definition follows (or says that DfE's texts are silent and what
    was chosen instead); empty means the data set's ``source`` applies.
    """

    name: str
    label: str
    unit: Unit
    definition: str
    numerator: str | None = None
    denominator: str | None = None
    of: str | None = None
    measure: str | None = None
    first_year: int | None = None
    applies: pl.Expr | None = field(default=None, compare=False)
    rule: Count | Statistic | None = field(default=None, compare=False)
    grouping: str = ""
    source: str = ""

    @property
    def decimal_places(self) -> int:
        return _DECIMALS[self.unit]

    @property
    def ees_unit(self) -> str:
        return _EES_UNITS[self.unit]

    @property
    def measure_id(self) -> str:
        return self.measure or self.name

    @property
    def depends_on(self) -> tuple[str, ...]:
        """The count indicators whose suppression this indicator inherits."""
        return tuple(c for c in (self.numerator, self.denominator, self.of) if c is not None)


@dataclass(frozen=True)
class Filter:
    """An EES filter column. ``total`` is the value that stands for all rows of the filter (e.g. "Total");
    ``group`` names another filter column this one is nested in (EES filter grouping); ``default`` is the
    item EES selects first when the filter has no total (the metadata's ``filter_default``)."""

    name: str
    label: str
    values: tuple[str, ...]
    total: str | None = None
    group: str | None = None
    hint: str = ""
    default: str | None = None


@dataclass(frozen=True)
class ColumnSum:
    """Within every row, count indicator ``total`` equals the sum of the ``parts`` indicators."""

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class RowSum:
    """For every combination of the other columns, the row matching ``total`` (filter column -> value)
    equals the sum of the rows matching each of ``parts``, for every count indicator."""

    total: Mapping[str, str]
    parts: tuple[Mapping[str, str], ...]


@dataclass(frozen=True)
class Relation:
    """An exact relation between count statistics that holds by their definitions (not a sum of a
    description's parts): ``sum(coef * measure) == 0`` (``kind="eq"``) or ``<= 0`` (``kind="le"``).

    Terms are measures (``Indicator.measure_id``, the internal name, never a published column name). The
    relation holds for every geography and filter combination where every term is a published,
    available count cell, whichever files those cells are in (so one declaration covers B1, C1 and the
    national summaries alike). ``why`` says which counting rules make it true."""

    terms: tuple[tuple[str, int], ...]
    kind: Literal["eq", "le"]
    why: str

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.terms)


def identity(total: str, plus: Sequence[str], minus: Sequence[str] = (), *, why: str) -> Relation:
    """``total = sum(plus) - sum(minus)`` for measures."""
    terms = ((total, 1), *((m, -1) for m in plus), *((m, 1) for m in minus))
    return Relation(terms=terms, kind="eq", why=why)


def at_most(small: Sequence[str], large: Sequence[str], *, why: str) -> Relation:
    """``sum(small) <= sum(large)`` for measures."""
    return Relation(terms=(*((m, 1) for m in small), *((m, -1) for m in large)), kind="le", why=why)


@dataclass(frozen=True)
class Row:
    """One published row of a data set with filters: its filter values (filter column -> item) and the
    predicate selecting the unit rows it counts."""

    values: Mapping[str, str]
    where: pl.Expr = field(compare=False)


@dataclass(frozen=True)
class Republished:
    """One row of a national summary: its filter values, and the England count it republishes (data set
    ``source``, count column ``column``). Its percentage, if any, is of ``percent_of`` in the same source.
    The row's count cell is the same statistic as the source cell (same measure)."""

    values: Mapping[str, str]
    source: str
    column: str
    percent_of: str | None = None


@dataclass(frozen=True)
class DataSet:
    """One published data set (one EES data file plus its metadata file).

    ``rows``: for a data set with filters, each published row's filter values and the unit rows it covers
    (without rows there is one row per geography). ``summary``: for a national summary (A1, A2, H), its
    rows, each republishing another data set's England count. ``time_period`` of reporting year ``Y`` is
    ``Y + period_offset`` (the ONS population file is labelled by the mid-year of the estimate, ``Y - 1``).
    ``columns_evidence`` says where the column list comes from: the 2020 file itself, a later release of
    the same table, or inferred (explained in ``provenance``). ``legacy_names``: columns kept exactly as DfE
    published them although today's EES screener rejects the name (e.g. an ethnic group in an indicator
    name); checks should report these as warnings, not failures.
    """

    code: str
    stem: str
    title: str
    description: str
    geography: Geography
    first_year: int
    last_year: int
    indicators: tuple[Indicator, ...]
    category: str | None = None
    filters: tuple[Filter, ...] = ()
    column_sums: tuple[ColumnSum, ...] = ()
    row_sums: tuple[RowSum, ...] = ()
    footnotes: tuple[str, ...] = ()
    provenance: str = ""
    rows: tuple[Row, ...] = ()
    summary: tuple[Republished, ...] = ()
    time_identifier: str = "Reporting year"
    period_offset: int = 0
    columns_evidence: Evidence = "inferred"
    legacy_names: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    source: str = ""

    @property
    def geography_columns(self) -> tuple[str, ...]:
        return LA_COLUMNS if self.geography == "la" else NATIONAL_COLUMNS

    @property
    def filter_columns(self) -> tuple[str, ...]:
        return (("category",) if self.category else ()) + tuple(f.name for f in self.filters)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of the published file, in EES order."""
        return self.geography_columns + self.filter_columns + tuple(i.name for i in self.indicators)

    def indicator(self, name: str) -> Indicator:
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(f"{self.code} has no indicator {name!r}")

    def source_of(self, name: str) -> str:
        """Where indicator ``name``'s definition comes from: its own ``source``, else the data set's."""
        return self.indicator(name).source or self.source

    def counts(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.unit == "count")
