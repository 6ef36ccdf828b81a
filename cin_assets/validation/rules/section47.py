"""Section 47 enquiry rules: dates against the referral and the census year, ICPCs, open enquiries."""

from __future__ import annotations

import polars as pl

from cin_assets.validation.rule import (
    EPISODE_KEY,
    S47_KEY,
    Context,
    Rule,
    open_s47,
    repeated,
    row_rule,
    rule,
    weekend,
    with_parent,
)

START, TARGET, ICPC, NREQ = "S47ActualStartDate", "InitialCPCtarget", "DateOfInitialCPC", "ICPCnotRequired"


def _with_episode(ctx: Context) -> pl.LazyFrame:
    return with_parent(ctx.lazy("section47"), ctx.episode_facts, EPISODE_KEY)


def _8839(ctx: Context) -> pl.LazyFrame:
    return repeated(ctx.lazy("section47"), open_s47(), EPISODE_KEY)


def _8890(ctx: Context) -> pl.LazyFrame:
    """An enquiry may not start on or after another's start before that one has ended: at its ICPC, or at the
    ReferenceDate while it is open (an enquiry closed by ICPCnotRequired has no end date to compare)."""
    other = ctx.lazy("section47").select(
        *EPISODE_KEY,
        pl.col("s47_id").alias("other_id"),
        pl.col(START).alias("other_start"),
        pl.when(pl.col(ICPC).is_not_null())
        .then(pl.col(ICPC))
        .when(open_s47())
        .then(pl.lit(ctx.census.reference_date))
        .alias("other_end"),
    )
    start = pl.col(START)
    return (
        ctx.lazy("section47")
        .join(other, on=list(EPISODE_KEY), nulls_equal=True)
        .filter(
            (pl.col("s47_id") != pl.col("other_id"))
            & (start >= pl.col("other_start")).fill_null(False)
            & (start < pl.col("other_end")).fill_null(False)
        )
        .unique(subset=list(S47_KEY), keep="first")
    )


def _2884(ctx: Context) -> pl.LazyFrame:
    return _with_episode(ctx).filter(pl.col(ICPC) == pl.col("EpisodeInitialCPC"))


RULES: list[Rule] = [
    rule(
        "1104",
        "section47",
        (ICPC, "CINreferralDate"),
        "The date of the initial child protection conference cannot be before the referral date",
        lambda ctx: _with_episode(ctx).filter(pl.col(ICPC) < pl.col("CINreferralDate")),
    ),
    rule(
        "2889",
        "section47",
        (START, "CINreferralDate"),
        "The S47 start date cannot be before the referral date.",
        lambda ctx: _with_episode(ctx).filter(pl.col(START) < pl.col("CINreferralDate")),
    ),
    rule(
        "2884",
        "section47",
        (ICPC,),
        "An initial child protection conference is recorded at both the S47 and CIN Details level and it should "
        "only be recorded in one",
        _2884,
    ),
    row_rule(
        "8615",
        "section47",
        (START, ICPC),
        "Section 47 Enquiry Start Date must be present and cannot be later than the date of the initial Child "
        "Protection Conference",
        lambda c: pl.col(ICPC).is_not_null() & (pl.col(START).is_null() | (pl.col(START) > pl.col(ICPC))),
    ),
    row_rule(
        "8715",
        "section47",
        (ICPC,),
        "Date of Initial Child Protection Conference must fall within the census year",
        lambda c: c.outside_year(pl.col(ICPC)),
    ),
    row_rule(
        "8740",
        "section47",
        (START, ICPC, NREQ),
        "For a Section 47 Enquiry that has not held the Initial Child Protection Conference by the end of the "
        "census year, the start date must fall within the census year",
        lambda c: open_s47() & c.outside_year(pl.col(START)),
    ),
    row_rule(
        "8675Q",
        "section47",
        (START, ICPC, NREQ),
        "Please check: S47 Enquiry started more than 15 working days before the end of the census year. However, "
        "there is no date of Initial Child Protection Conference.",
        lambda c: open_s47() & (pl.col(START) < c.s47_overdue),
    ),
    row_rule(
        "8870Q",
        "section47",
        (TARGET,),
        "Please check: The Target Date for Initial Child Protection Conference should not be a weekend",
        lambda c: weekend(pl.col(TARGET)),
    ),
    row_rule(
        "8875",
        "section47",
        (ICPC,),
        "The Date of Initial Child Protection Conference cannot be a weekend",
        lambda c: weekend(pl.col(ICPC)),
    ),
    rule(
        "8839",
        "section47",
        (ICPC, NREQ),
        "Within one CINDetails group there are 2 or more open S47 Assessments",
        _8839,
    ),
    rule(
        "8890",
        "section47",
        (START, ICPC),
        "A Section 47 enquiry is shown as starting when there is another Section 47 Enquiry ongoing",
        _8890,
    ),
]
