"""What a validation rule is, the census-year facts rules are written against, and the shared table views.

A rule is one small declarative record: DfE code, error or query, the DfE message, the table whose rows it
reports and the fields it looks at, plus a check that returns the failing rows as a lazy polars query over
the child-level tables. Rules never loop over children; every join is on the full keys
(reporting_year, la_code, LAchildID, episode_id, ...), never on positions alone.

Every rule was read from the DfE 2021-22 (Bristol toolkit) and 2022-23 (csc-validator-be-cin) rule texts;
that they applied unchanged in 2013-2020 is assumed (the 2019-20 rules spreadsheet is not public). A
rule's ``uncertainty`` records any doubt beyond that general one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import polars as pl

from cin_assets.census import calendar, tables
from cin_assets.census.codes import NO_FACTORS, CodeLists, code_lists

RuleType = Literal["error", "query"]

CHILD_KEY = ("reporting_year", "la_code", "LAchildID")
EPISODE_KEY = (*CHILD_KEY, "episode_id")
ASSESSMENT_KEY = (*EPISODE_KEY, "assessment_id")
S47_KEY = (*EPISODE_KEY, "s47_id")
CPP_KEY = (*EPISODE_KEY, "cpp_id")
LA_KEY = ("reporting_year", "la_code")


@dataclass(frozen=True)
class Census:
    """Dates a rule needs for one reporting year, as the DfE computes them."""

    year: int
    start: dt.date
    reference_date: dt.date
    day_before_start: dt.date  # one working day before the census start (8569Q)
    assessment_overdue: dt.date  # ReferenceDate minus 45 working days (8670Q)
    s47_overdue: dt.date  # ReferenceDate minus 15 working days (8675Q)
    codes: CodeLists

    @classmethod
    def for_year(cls, year: int) -> Census:
        start, _ = calendar.census_period(year)
        ref = calendar.reference_date(year)

        def back(day: dt.date, n: int) -> dt.date:
            shifted = calendar.add_working_days_np(np.array([day], dtype="datetime64[D]"), np.array([-n]))
            return shifted[0].item()

        return cls(
            year=year,
            start=start,
            reference_date=ref,
            day_before_start=back(start, 1),
            assessment_overdue=back(ref, 45),
            s47_overdue=back(ref, 15),
            codes=code_lists(year),
        )

    def in_year(self, date: pl.Expr) -> pl.Expr:
        """True where ``date`` is inside the census year (null gives null, so callers decide)."""
        return date.is_between(self.start, self.reference_date, closed="both")

    def outside_year(self, date: pl.Expr) -> pl.Expr:
        """True where ``date`` is present and outside the census year."""
        return date.is_not_null() & ~date.is_between(self.start, self.reference_date, closed="both")


class Context:
    """The tables of one validation run (one reporting year), with shared views built once.

    Views are eager frames cached on first use, so many rules can reuse one join; rules wrap them with
    ``.lazy()``. Parent facts joined onto child rows are made unique on their key first, so a duplicated
    LAchildID (itself an error, 8510) cannot multiply rows.
    """

    def __init__(self, frames: Mapping[str, pl.DataFrame], census: Census) -> None:
        self.census = census
        self.frames = {
            name: tables.conform(name, frames[name]).rechunk() if name in frames else tables.empty(name)
            for name in tables.TABLES
        }

    def lazy(self, table: str) -> pl.LazyFrame:
        return self.frames[table].lazy()

    # -- booleans with nulls resolved: a missing/invalid flag is reported by 8568 only ----------------------
    @staticmethod
    def nfa_false() -> pl.Expr:
        return ~pl.col("ReferralNFA").fill_null(True)

    # -- shared views -------------------------------------------------------------------------------------
    @cached_property
    def child_facts(self) -> pl.DataFrame:
        """One row per child key: dates and UPN facts rules compare episodes against."""
        return (
            self.frames["children"]
            .unique(subset=list(CHILD_KEY), keep="first", maintain_order=True)
            .select(
                *CHILD_KEY,
                "PersonBirthDate",
                "ExpectedPersonBirthDate",
                "PersonDeathDate",
                "UPNunknown",
            )
        )

    @cached_property
    def episode_facts(self) -> pl.DataFrame:
        """One row per episode key with the episode dates and flags, renamed so they never clash."""
        return (
            self.frames["episodes"]
            .unique(subset=list(EPISODE_KEY), keep="first", maintain_order=True)
            .select(
                *EPISODE_KEY,
                "CINreferralDate",
                "CINclosureDate",
                "ReasonForClosure",
                "ReferralNFA",
                pl.col("DateOfInitialCPC").alias("EpisodeInitialCPC"),
            )
        )

    @cached_property
    def factor_summary(self) -> pl.DataFrame:
        """Per assessment: how many factor codes, and whether 21, another code, a valid code or 5A/6A is among them."""
        valid = list(self.census.codes.factors)
        factors = pl.col("AssessmentFactors")
        return (
            self.frames["assessment_factors"]
            .group_by(list(ASSESSMENT_KEY))
            .agg(
                n_factors=pl.len(),
                has_21=(factors == NO_FACTORS).any(),
                has_other_than_21=(factors != NO_FACTORS).fill_null(True).any(),
                has_valid=factors.is_in(valid).any(),
                has_disability_factor=factors.is_in(["5A", "6A"]).any(),
            )
        )

    @cached_property
    def episode_activity(self) -> pl.DataFrame:
        """Per episode: counts of each module and the latest activity dates (for closure and NFA rules)."""
        assess = (
            self.frames["assessments"]
            .group_by(list(EPISODE_KEY))
            .agg(
                n_assessments=pl.len(),
                n_open_assessments=pl.col("AssessmentAuthorisationDate").is_null().sum(),
                any_assessment_dates=(
                    pl.col("AssessmentActualStartDate").is_not_null()
                    | pl.col("AssessmentAuthorisationDate").is_not_null()
                ).any(),
                last_assessment=pl.max_horizontal(
                    "AssessmentActualStartDate", "AssessmentAuthorisationDate"
                ).max(),
            )
        )
        s47 = (
            self.frames["section47"]
            .group_by(list(EPISODE_KEY))
            .agg(
                n_s47=pl.len(),
                n_open_s47=open_s47().fill_null(False).sum(),
                any_s47_dates=(
                    pl.col("S47ActualStartDate").is_not_null() | pl.col("DateOfInitialCPC").is_not_null()
                ).any(),
                last_s47=pl.max_horizontal("S47ActualStartDate", "DateOfInitialCPC").max(),
            )
        )
        cpp = (
            self.frames["cpps"]
            .group_by(list(EPISODE_KEY))
            .agg(n_cpp=pl.len(), last_cpp_end=pl.col("CPPendDate").max())
        )
        counts = ["n_assessments", "n_open_assessments", "n_s47", "n_open_s47", "n_cpp"]
        return (
            self.episode_facts.lazy()
            .join(assess.lazy(), on=list(EPISODE_KEY), how="left", nulls_equal=True)
            .join(s47.lazy(), on=list(EPISODE_KEY), how="left", nulls_equal=True)
            .join(cpp.lazy(), on=list(EPISODE_KEY), how="left", nulls_equal=True)
            .with_columns(
                *[pl.col(c).fill_null(0) for c in counts],
                pl.col("any_assessment_dates", "any_s47_dates").fill_null(False),
            )
            .collect()
        )


Check = Callable[[Context], pl.LazyFrame]


@dataclass(frozen=True)
class Rule:
    """One DfE validation rule.

    ``check`` returns the failing rows: at least ``reporting_year`` and ``la_code``, plus ``LAchildID`` and
    ``line`` for child-level rules, and whichever of ``fields`` explain the failure (they become the report's
    ``value`` column). ``table`` is ``"return"`` for rules about the whole return.
    """

    code: str
    type: RuleType
    message: str
    table: str
    fields: tuple[str, ...]
    check: Check
    first_year: int = calendar.FIRST_YEAR
    last_year: int = calendar.LAST_YEAR
    uncertainty: str = ""

    def applies(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year


def rule_type(code: str) -> RuleType:
    """DfE convention: a trailing Q marks a query, anything else is an error."""
    return "query" if code.endswith("Q") else "error"


def row_rule(
    code: str,
    table: str,
    fields: tuple[str, ...],
    message: str,
    where: Callable[[Census], pl.Expr],
    **options: object,
) -> Rule:
    """A rule that only looks at one row of one table: ``where`` is true on the failing rows."""

    def check(ctx: Context) -> pl.LazyFrame:
        return ctx.lazy(table).filter(where(ctx.census).fill_null(False))

    return Rule(code, rule_type(code), message, table, fields, check, **options)  # type: ignore[arg-type]


def rule(
    code: str, table: str, fields: tuple[str, ...], message: str, check: Check, **options: object
) -> Rule:
    """A rule whose check needs more than one row (joins, groups, return-level counts)."""
    return Rule(code, rule_type(code), message, table, fields, check, **options)  # type: ignore[arg-type]


def text(template: str, *args: pl.Expr | str | int) -> pl.Expr:
    """``pl.format`` with nulls shown as "(missing)", built on ``concat_str``.

    ``pl.format`` panics in polars 2.1 on some filtered multi-chunk string columns; ``concat_str`` does not.
    """
    pieces = template.split("{}")
    if len(pieces) != len(args) + 1:
        raise ValueError(f"template {template!r} needs {len(pieces) - 1} arguments, got {len(args)}")
    exprs: list[pl.Expr] = [pl.lit(pieces[0])]
    for arg, piece in zip(args, pieces[1:], strict=True):
        value = arg if isinstance(arg, pl.Expr) else pl.lit(str(arg))
        exprs += [value.cast(pl.String).fill_null("(missing)"), pl.lit(piece)]
    return pl.concat_str(exprs)


def open_s47() -> pl.Expr:
    """An S47 still open: no ICPC held and ICPCnotRequired false (a missing flag is reported elsewhere)."""
    return pl.col("DateOfInitialCPC").is_null() & (pl.col("ICPCnotRequired") == False)  # noqa: E712


def weekend(date: pl.Expr) -> pl.Expr:
    return date.dt.weekday() >= 6


def repeated(frame: pl.LazyFrame, where: pl.Expr, key: tuple[str, ...]) -> pl.LazyFrame:
    """Rows matching ``where`` whose ``key`` has more than one such row (group-by and semi-join: polars 2.1
    window functions over string keys are an order of magnitude slower)."""
    rows = frame.filter(where.fill_null(False))
    many = rows.group_by(list(key)).len().filter(pl.col("len") > 1).select(key)
    return rows.join(many, on=list(key), how="semi", nulls_equal=True)


def repeat_of_earlier(columns: tuple[str, ...]) -> pl.Expr:
    """True on the second and later rows with the same values in ``columns``."""
    return ~pl.struct(list(columns)).is_first_distinct()


def semi(left: pl.LazyFrame, right: pl.LazyFrame, on: tuple[str, ...]) -> pl.LazyFrame:
    return left.join(right, on=list(on), how="semi", nulls_equal=True)


def anti(left: pl.LazyFrame, right: pl.LazyFrame, on: tuple[str, ...]) -> pl.LazyFrame:
    return left.join(right, on=list(on), how="anti", nulls_equal=True)


def with_parent(left: pl.LazyFrame, parent: pl.DataFrame, on: tuple[str, ...]) -> pl.LazyFrame:
    """Attach parent facts (already unique on ``on``) to child rows, keeping every child row once."""
    return left.join(parent.lazy(), on=list(on), how="left", nulls_equal=True)
