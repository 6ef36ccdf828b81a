"""Return-level rules: the header's ReferenceDate and the LA-wide counts the DfE checks."""

from __future__ import annotations

import polars as pl

from cin_assets.census.codes import NO_DISABILITY
from cin_assets.validation.rule import LA_KEY, Context, Rule, rule, text


def _100(ctx: Context) -> pl.LazyFrame:
    year = pl.col("Year").fill_null(ctx.census.year)
    expected = pl.date(year, 3, 31)
    return (
        ctx.lazy("headers")
        .filter(pl.col("ReferenceDate").is_null() | (pl.col("ReferenceDate") != expected))
        .with_columns(
            text("ReferenceDate={}; Year={}", pl.col("ReferenceDate"), pl.col("Year")).alias("value")
        )
    )


def _las(ctx: Context) -> pl.LazyFrame:
    """The returns that hold children (every LA-level count is taken over these)."""
    return ctx.lazy("children").select(LA_KEY).unique()


def _count(frame: pl.LazyFrame, name: str) -> pl.LazyFrame:
    return frame.group_by(list(LA_KEY)).agg(pl.len().alias(name))


def _2883(ctx: Context) -> pl.LazyFrame:
    in_year = ctx.census.in_year
    starts = _count(ctx.lazy("cpps").filter(in_year(pl.col("CPPstartDate"))), "starts")
    icpc_ep = _count(ctx.lazy("episodes").filter(in_year(pl.col("DateOfInitialCPC"))), "icpc_episodes")
    icpc_s47 = _count(ctx.lazy("section47").filter(in_year(pl.col("DateOfInitialCPC"))), "icpc_s47")
    counts = ["starts", "icpc_episodes", "icpc_s47"]
    return (
        _las(ctx)
        .join(starts, on=list(LA_KEY), how="left", nulls_equal=True)
        .join(icpc_ep, on=list(LA_KEY), how="left", nulls_equal=True)
        .join(icpc_s47, on=list(LA_KEY), how="left", nulls_equal=True)
        .with_columns(pl.col(counts).fill_null(0))
        .filter(pl.col("starts") > pl.col("icpc_episodes") + pl.col("icpc_s47"))
        .with_columns(
            text(
                "CPP starts in year={}; ICPCs in year={}",
                pl.col("starts"),
                pl.col("icpc_episodes") + pl.col("icpc_s47"),
            ).alias("value")
        )
    )


def _2886(ctx: Context) -> pl.LazyFrame:
    gender = pl.col(ctx.census.codes.gender_field)
    unknown = gender.is_null() | (gender == ctx.census.codes.unborn_gender)
    born = pl.col("ExpectedPersonBirthDate").is_null()
    return (
        ctx.lazy("children")
        .group_by(list(LA_KEY))
        .agg(children=pl.len(), unknown=(unknown & born).sum())
        .filter(pl.col("unknown") * 50 > pl.col("children"))
        .with_columns(
            text(
                "{} born children of {} ({}%)",
                pl.col("unknown"),
                pl.col("children"),
                (pl.col("unknown") * 100 / pl.col("children")).round(1),
            ).alias("value")
        )
    )


def _disability_codes(ctx: Context) -> pl.LazyFrame:
    real = [c for c in ctx.census.codes.disability if c != NO_DISABILITY]
    return ctx.lazy("disabilities").filter(pl.col("Disability").is_in(real))


def _2887(ctx: Context) -> pl.LazyFrame:
    used = _disability_codes(ctx).group_by(list(LA_KEY)).agg(codes=pl.col("Disability").n_unique())
    return (
        _las(ctx)
        .join(used, on=list(LA_KEY), how="left", nulls_equal=True)
        .with_columns(pl.col("codes").fill_null(0))
        .filter(pl.col("codes") < 8)
        .with_columns(text("{} distinct disability codes other than NONE", pl.col("codes")).alias("value"))
    )


def _2888(ctx: Context) -> pl.LazyFrame:
    multi = (
        _disability_codes(ctx)
        .group_by([*LA_KEY, "LAchildID"])
        .agg(n=pl.col("Disability").n_unique())
        .filter(pl.col("n") > 1)
        .select(LA_KEY)
        .unique()
    )
    return _las(ctx).join(multi, on=list(LA_KEY), how="anti", nulls_equal=True)


RULES: list[Rule] = [
    rule(
        "100",
        "headers",
        ("ReferenceDate", "Year"),
        "Reference Date is incorrect",
        _100,
    ),
    rule(
        "2883",
        "return",
        ("CPPstartDate", "DateOfInitialCPC"),
        "There are more child protection plans starting than initial conferences taking place",
        _2883,
    ),
    rule(
        "2886Q",
        "return",
        ("GenderCurrent",),
        "Please check: Percentage of children with no gender recorded is more than 2% (excluding unborns)",
        _2886,
        uncertainty="denominator: all child records, as the DfE text quoted by csc-validator-be-cin and "
        "Bristol's checks read (the numerator excludes unborn children)",
    ),
    rule(
        "2887Q",
        "return",
        ("Disability",),
        "Please check: Less than 8 disability codes have been used in your return",
        _2887,
    ),
    rule(
        "2888Q",
        "return",
        ("Disability",),
        "Please check: Only one disability code is recorded per child and multiple disabilities should be "
        "recorded where possible.",
        _2888,
    ),
]
