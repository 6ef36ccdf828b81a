"""CIN plan rules (4000-4017), from the 2021-22 collection, when ``CINPlanDates`` joined the census.

Read from csc-validator-be-cin's 2022-23 rule texts (the DfE wording is quoted in each of its modules).
Plans are compared across all of a child's episodes where the DfE text says "any" plan (4003, 4014, 4016,
4017), within the episode otherwise.
"""

from __future__ import annotations

import polars as pl

from cin_assets.validation.rule import (
    CHILD_KEY,
    EPISODE_KEY,
    Context,
    Rule,
    repeated,
    row_rule,
    rule,
    semi,
    with_parent,
)

START, END = "CINPlanStartDate", "CINPlanEndDate"
PLAN_KEY = (*EPISODE_KEY, "plan_id")
FIRST_YEAR = 2022


def _plans(ctx: Context) -> pl.LazyFrame:
    return ctx.lazy("cin_plans")


def _4000(ctx: Context) -> pl.LazyFrame:
    nfa = ctx.lazy("episodes").filter(pl.col("ReferralNFA").fill_null(False)).select(EPISODE_KEY)
    return semi(_plans(ctx), nfa, EPISODE_KEY).with_columns(pl.lit("true").alias("ReferralNFA"))


def _4001(ctx: Context) -> pl.LazyFrame:
    open_cpp = ctx.lazy("cpps").filter(pl.col("CPPendDate").is_null()).select(EPISODE_KEY).unique()
    return semi(
        _plans(ctx).filter(pl.col(START).is_not_null() & pl.col(END).is_null()), open_cpp, EPISODE_KEY
    )


def _4003(ctx: Context) -> pl.LazyFrame:
    """A CPP review of the child inside a plan's period (start inclusive, end exclusive), unless the review
    is the plan's own CPP end date."""
    cpps = ctx.lazy("cpps").select(*EPISODE_KEY, "cpp_id", "CPPendDate")
    reviews = (
        ctx.lazy("cpp_reviews")
        .join(cpps, on=[*EPISODE_KEY, "cpp_id"], how="left", nulls_equal=True)
        .select(*CHILD_KEY, "CPPreviewDate", "CPPendDate")
    )
    review = pl.col("CPPreviewDate")
    return (
        _plans(ctx)
        .join(reviews, on=list(CHILD_KEY), nulls_equal=True)
        .filter(
            (review >= pl.col(START))
            & (review < pl.col(END))
            & ~(pl.col("CPPendDate").is_not_null() & (review == pl.col("CPPendDate")))
        )
        .unique(subset=list(PLAN_KEY), keep="first", maintain_order=True)
    )


def _4008(ctx: Context) -> pl.LazyFrame:
    return with_parent(_plans(ctx), ctx.child_facts, CHILD_KEY).filter(
        pl.col(START) > pl.col("PersonDeathDate")
    )


def _4009(ctx: Context) -> pl.LazyFrame:
    death = pl.col("PersonDeathDate")
    return with_parent(_plans(ctx), ctx.child_facts, CHILD_KEY).filter(
        death.is_not_null() & (pl.col(END).is_null() | (pl.col(END) > death))
    )


def _starts_inside(
    ctx: Context,
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    start: str,
    period: tuple[str, str],
    key: tuple[str, ...],
) -> pl.LazyFrame:
    """Rows of ``left`` whose ``start`` falls on or after the start of a ``right`` period of the same child and
    before its end (on or before the ReferenceDate while it is open); one row per ``key``."""
    periods = right.select(*CHILD_KEY, pl.col(period[0]).alias("_o_start"), pl.col(period[1]).alias("_o_end"))
    s = pl.col(start)
    inside = (s >= pl.col("_o_start")) & pl.when(pl.col("_o_end").is_null()).then(
        s <= ctx.census.reference_date
    ).otherwise(s < pl.col("_o_end"))
    return (
        left.join(periods, on=list(CHILD_KEY), nulls_equal=True)
        .filter(inside.fill_null(False))
        .unique(subset=list(key), keep="first", maintain_order=True)
    )


def _4014(ctx: Context) -> pl.LazyFrame:
    """A plan starting inside another plan of the child (end inclusive, as the DfE text reads)."""
    plans = _plans(ctx).filter(pl.col(START).is_not_null())
    other = plans.select(
        *CHILD_KEY,
        pl.col("episode_id").alias("_o_episode"),
        pl.col("plan_id").alias("_o_plan"),
        pl.col(START).alias("_o_start"),
        pl.col(END).alias("_o_end"),
    )
    s = pl.col(START)
    inside = (s >= pl.col("_o_start")) & pl.when(pl.col("_o_end").is_null()).then(
        s <= ctx.census.reference_date
    ).otherwise(s <= pl.col("_o_end"))
    itself = (pl.col("episode_id") == pl.col("_o_episode")) & (pl.col("plan_id") == pl.col("_o_plan"))
    return (
        plans.join(other, on=list(CHILD_KEY), nulls_equal=True)
        .filter(inside.fill_null(False) & ~itself)
        .unique(subset=list(PLAN_KEY), keep="first", maintain_order=True)
    )


def _4015(ctx: Context) -> pl.LazyFrame:
    return with_parent(_plans(ctx), ctx.episode_facts, EPISODE_KEY).filter(
        pl.col(START) < pl.col("CINreferralDate")
    )


def _4016(ctx: Context) -> pl.LazyFrame:
    return _starts_inside(ctx, _plans(ctx), ctx.lazy("cpps"), START, ("CPPstartDate", "CPPendDate"), PLAN_KEY)


def _4017(ctx: Context) -> pl.LazyFrame:
    return _starts_inside(
        ctx, ctx.lazy("cpps"), _plans(ctx), "CPPstartDate", (START, END), (*EPISODE_KEY, "cpp_id")
    )


RULES: list[Rule] = [
    rule(
        "4000",
        "cin_plans",
        ("ReferralNFA",),
        "CIN Plan details provided for a referral with no further action",
        _4000,
        first_year=FIRST_YEAR,
    ),
    rule(
        "4001",
        "cin_plans",
        (END, "CPPendDate"),
        "A CIN Plan cannot run concurrently with a Child Protection Plan",
        _4001,
        first_year=FIRST_YEAR,
    ),
    rule(
        "4003",
        "cin_plans",
        (START, END, "CPPreviewDate"),
        "A CPP review date is shown as being held at the same time as an open CIN Plan.",
        _4003,
        first_year=FIRST_YEAR,
    ),
    rule(
        "4004",
        "cin_plans",
        (END,),
        "This child is showing more than one open CIN Plan, i.e. with no End Date",
        lambda ctx: repeated(_plans(ctx), pl.col(END).is_null(), EPISODE_KEY),
        first_year=FIRST_YEAR,
    ),
    rule(
        "4008",
        "cin_plans",
        ("PersonDeathDate", START),
        "CIN Plan shown as starting after the child's Date of Death.",
        _4008,
        first_year=FIRST_YEAR,
    ),
    rule(
        "4009Q",
        "cin_plans",
        ("PersonDeathDate", END),
        "CIN Plan cannot end after the child's Date of Death",
        _4009,
        first_year=FIRST_YEAR,
    ),
    row_rule(
        "4010",
        "cin_plans",
        (START,),
        "CIN Plan start date is missing or out of data collection period",
        lambda c: pl.col(START).is_null() | (pl.col(START) > c.reference_date),
        first_year=FIRST_YEAR,
    ),
    row_rule(
        "4011",
        "cin_plans",
        (END, START),
        "CIN Plan End Date earlier than Start Date",
        lambda c: pl.col(END) < pl.col(START),
        first_year=FIRST_YEAR,
    ),
    row_rule(
        "4012Q",
        "cin_plans",
        (START, END),
        "Please check and either amend or provide a reason: CIN Plan shown as starting and ending on the same day",
        lambda c: pl.col(END) == pl.col(START),
        first_year=FIRST_YEAR,
    ),
    row_rule(
        "4013",
        "cin_plans",
        (END,),
        "CIN Plan end date must fall within the census year",
        lambda c: c.outside_year(pl.col(END)),
        first_year=FIRST_YEAR,
    ),
    rule(
        "4014",
        "cin_plans",
        (START, END),
        "CIN Plan data contains overlapping dates",
        _4014,
        first_year=FIRST_YEAR,
    ),
    rule(
        "4015",
        "cin_plans",
        (START, "CINreferralDate"),
        "The CIN Plan start date cannot be before the referral date",
        _4015,
        first_year=FIRST_YEAR,
    ),
    rule(
        "4016",
        "cin_plans",
        (START, "CPPstartDate"),
        "A CIN Plan has been reported as open at the same time as a Child Protection Plan.",
        _4016,
        first_year=FIRST_YEAR,
    ),
    rule(
        "4017",
        "cpps",
        ("CPPstartDate", START, END),
        "A CIN Plan has been reported as open at the same time as a Child Protection Plan.",
        _4017,
        first_year=FIRST_YEAR,
    ),
]
