"""Child protection plan and review rules."""

from __future__ import annotations

import polars as pl

from cin_assets.validation.rule import (
    CHILD_KEY,
    CPP_KEY,
    EPISODE_KEY,
    Context,
    Rule,
    repeated,
    row_rule,
    rule,
    with_parent,
)

START, END = "CPPstartDate", "CPPendDate"


def _with_child(ctx: Context) -> pl.LazyFrame:
    return with_parent(ctx.lazy("cpps"), ctx.child_facts, CHILD_KEY)


def _2885(ctx: Context) -> pl.LazyFrame:
    """An in-year plan starts at an ICPC of its episode: an S47 conference or the episode-level one."""
    s47_icpcs = (
        ctx.lazy("section47")
        .filter(pl.col("DateOfInitialCPC").is_not_null())
        .select(*EPISODE_KEY, pl.col("DateOfInitialCPC").alias(START))
        .unique()
    )
    in_year = with_parent(ctx.lazy("cpps"), ctx.episode_facts, EPISODE_KEY).filter(
        ctx.census.in_year(pl.col(START)).fill_null(False)
        & (pl.col("EpisodeInitialCPC").is_null() | (pl.col("EpisodeInitialCPC") != pl.col(START)))
    )
    return in_year.join(s47_icpcs, on=[*EPISODE_KEY, START], how="anti", nulls_equal=True)


def _8841(ctx: Context) -> pl.LazyFrame:
    plans = ctx.lazy("cpps").select(*CPP_KEY, START).unique(subset=list(CPP_KEY), keep="first")
    return (
        ctx.lazy("cpp_reviews")
        .join(plans, on=list(CPP_KEY), how="left", nulls_equal=True)
        .filter(pl.col("CPPreviewDate") <= pl.col(START))
    )


def _8842(ctx: Context) -> pl.LazyFrame:
    dated = ctx.lazy("cpp_reviews").filter(pl.col("CPPreviewDate").is_not_null()).select(CPP_KEY).unique()
    return (
        ctx.lazy("cpps")
        .filter(pl.col("has_reviews_block").fill_null(False))
        .join(dated, on=list(CPP_KEY), how="anti", nulls_equal=True)
    )


def _8935(ctx: Context) -> pl.LazyFrame:
    return repeated(ctx.lazy("cpps"), pl.col(END).is_null(), CHILD_KEY)


def _8940(ctx: Context) -> pl.LazyFrame:
    """A plan may not start on or after another plan's start and on or before its end (the ReferenceDate while
    it is open), across all the child's episodes."""
    other = ctx.lazy("cpps").select(
        *CHILD_KEY,
        pl.col("episode_id").alias("other_episode"),
        pl.col("cpp_id").alias("other_id"),
        pl.col(START).alias("other_start"),
        pl.col(END).fill_null(ctx.census.reference_date).alias("other_end"),
    )
    start = pl.col(START)
    different = (pl.col("episode_id") != pl.col("other_episode")) | (pl.col("cpp_id") != pl.col("other_id"))
    return (
        ctx.lazy("cpps")
        .join(other, on=list(CHILD_KEY), nulls_equal=True)
        .filter(
            different
            & (start >= pl.col("other_start")).fill_null(False)
            & (start <= pl.col("other_end")).fill_null(False)
        )
        .unique(subset=list(CPP_KEY), keep="first")
    )


RULES: list[Rule] = [
    rule(
        "1105",
        "cpps",
        (START, "CINreferralDate"),
        "The child protection plan start date cannot be before the referral date",
        lambda ctx: with_parent(ctx.lazy("cpps"), ctx.episode_facts, EPISODE_KEY).filter(
            pl.col(START) < pl.col("CINreferralDate")
        ),
    ),
    rule(
        "2885",
        "cpps",
        (START, "DateOfInitialCPC"),
        "Child protection plan shown as starting a different day to the initial child protection conference",
        _2885,
    ),
    row_rule(
        "8720",
        "cpps",
        (START,),
        "Child Protection Plan Start Date missing or out of data collection period",
        lambda c: pl.col(START).is_null() | (pl.col(START) > c.reference_date),
    ),
    row_rule(
        "8730",
        "cpps",
        ("NumberOfPreviousCPP",),
        "Total number of previous Child Protection Plans missing",
        lambda c: pl.col("NumberOfPreviousCPP").is_null() | (pl.col("NumberOfPreviousCPP") < 0),
    ),
    row_rule(
        "8905",
        "cpps",
        ("InitialCategoryOfAbuse",),
        "Initial Category of Abuse code missing or invalid (see Category of Abuse table in CIN Census code set)",
        lambda c: ~pl.col("InitialCategoryOfAbuse").is_in(list(c.codes.abuse_category)).fill_null(False),
    ),
    row_rule(
        "8910",
        "cpps",
        ("LatestCategoryOfAbuse",),
        "Latest Category of Abuse code missing or invalid (see Category of Abuse table in CIN Census code set)",
        lambda c: ~pl.col("LatestCategoryOfAbuse").is_in(list(c.codes.abuse_category)).fill_null(False),
    ),
    rule(
        "8915",
        "cpps",
        (START, "PersonDeathDate"),
        "Child Protection Plan shown as starting after the child's Date of Death",
        lambda ctx: _with_child(ctx).filter(pl.col(START) > pl.col("PersonDeathDate")),
    ),
    rule(
        "8920",
        "cpps",
        (END, "PersonDeathDate"),
        "Child Protection Plan cannot end after the child's Date of Death",
        lambda ctx: _with_child(ctx).filter(
            pl.col("PersonDeathDate").is_not_null()
            & (pl.col(END).is_null() | (pl.col(END) > pl.col("PersonDeathDate")))
        ),
    ),
    row_rule(
        "8925",
        "cpps",
        (START, END),
        "Child Protection Plan End Date earlier than Start Date",
        lambda c: pl.col(END) < pl.col(START),
    ),
    row_rule(
        "8930",
        "cpps",
        (END,),
        "Child Protection Plan End Date must fall within the census year",
        lambda c: c.outside_year(pl.col(END)),
    ),
    row_rule(
        "8840",
        "cpps",
        (START, END),
        "Child Protection Plan cannot start and end on the same day",
        lambda c: pl.col(END) == pl.col(START),
    ),
    rule(
        "8841",
        "cpp_reviews",
        ("CPPreviewDate", START),
        "The review date cannot be on the same day or before the Child protection Plan start date.",
        _8841,
    ),
    rule("8842Q", "cpps", ("CPPreviewDate",), "Please check: Review Record has a missing date", _8842),
    rule(
        "8935",
        "cpps",
        (END,),
        "This child is showing more than one open Child Protection plan, i.e. with no End Date",
        _8935,
    ),
    rule("8940", "cpps", (START, END), "Child Protection Plan data contains overlapping dates", _8940),
]
