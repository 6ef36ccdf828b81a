"""Assessment rules: start and authorisation dates, open assessments, factors identified at assessment."""

from __future__ import annotations

import polars as pl

from cin_assets.census.codes import NO_DISABILITY
from cin_assets.validation.rule import (
    ASSESSMENT_KEY,
    CHILD_KEY,
    EPISODE_KEY,
    Context,
    Rule,
    repeat_of_earlier,
    repeated,
    row_rule,
    rule,
    with_parent,
)

START, AUTH, FACTOR = "AssessmentActualStartDate", "AssessmentAuthorisationDate", "AssessmentFactors"
_FACTORS_BEFORE_2018 = (
    "factor code list before 2017-18 not confirmed; the 2019-20 list is used for every year"
)


def _with_factors(ctx: Context) -> pl.LazyFrame:
    return with_parent(ctx.lazy("assessments"), ctx.factor_summary, ASSESSMENT_KEY).with_columns(
        pl.col("n_factors").fill_null(0),
        pl.col("has_21", "has_other_than_21", "has_valid", "has_disability_factor").fill_null(False),
    )


def _1103(ctx: Context) -> pl.LazyFrame:
    return with_parent(ctx.lazy("assessments"), ctx.episode_facts, EPISODE_KEY).filter(
        pl.col(START) < pl.col("CINreferralDate")
    )


def _8614(ctx: Context) -> pl.LazyFrame:
    return _with_factors(ctx).filter(pl.col(AUTH).is_null() & (pl.col("n_factors") > 0))


def _8869(ctx: Context) -> pl.LazyFrame:
    return _with_factors(ctx).filter(pl.col("has_21") & pl.col("has_other_than_21"))


def _8897(ctx: Context) -> pl.LazyFrame:
    return _with_factors(ctx).filter(ctx.census.in_year(pl.col(AUTH)).fill_null(False) & ~pl.col("has_valid"))


def _8899(ctx: Context) -> pl.LazyFrame:
    disabled = (
        ctx.lazy("disabilities")
        .filter(pl.col("Disability").is_in([c for c in ctx.census.codes.disability if c != NO_DISABILITY]))
        .select(CHILD_KEY)
        .unique()
    )
    return (
        _with_factors(ctx)
        .join(disabled, on=list(CHILD_KEY), how="semi", nulls_equal=True)
        .filter(ctx.census.in_year(pl.col(AUTH)).fill_null(False) & ~pl.col("has_disability_factor"))
    )


def _8896(ctx: Context) -> pl.LazyFrame:
    return repeated(ctx.lazy("assessments"), pl.col(AUTH).is_null(), EPISODE_KEY)


def _8863(ctx: Context) -> pl.LazyFrame:
    """An assessment may not start on or after another's start while that one is still running (until its
    authorisation, or the ReferenceDate when unauthorised)."""
    other = ctx.lazy("assessments").select(
        *EPISODE_KEY,
        pl.col("assessment_id").alias("other_id"),
        pl.col(START).alias("other_start"),
        pl.col(AUTH).fill_null(ctx.census.reference_date).alias("other_end"),
    )
    start = pl.col(START)
    return (
        ctx.lazy("assessments")
        .join(other, on=list(EPISODE_KEY), nulls_equal=True)
        .filter(
            (pl.col("assessment_id") != pl.col("other_id"))
            & (start >= pl.col("other_start")).fill_null(False)
            & (start < pl.col("other_end")).fill_null(False)
        )
        .unique(subset=list(ASSESSMENT_KEY), keep="first")
    )


def _8898(ctx: Context) -> pl.LazyFrame:
    return ctx.lazy("assessment_factors").filter(
        pl.col(FACTOR).is_not_null() & repeat_of_earlier((*ASSESSMENT_KEY, FACTOR))
    )


RULES: list[Rule] = [
    rule(
        "1103",
        "assessments",
        (START, "CINreferralDate"),
        "The assessment start date cannot be before the referral date",
        _1103,
    ),
    row_rule(
        "8608",
        "assessments",
        (START, AUTH),
        "Assessment Start Date cannot be later than its End Date",
        lambda c: pl.col(AUTH) < pl.col(START),
    ),
    row_rule(
        "8670Q",
        "assessments",
        (START, AUTH),
        "Please check: Assessment started more than 45 working days before the end of the census year. However, "
        "there is no Assessment end date.",
        lambda c: pl.col(AUTH).is_null() & (pl.col(START) < c.assessment_overdue),
    ),
    row_rule(
        "8696",
        "assessments",
        (AUTH,),
        "Assessment end date must fall within the census year",
        lambda c: c.outside_year(pl.col(AUTH)),
    ),
    row_rule(
        "8736",
        "assessments",
        (START, AUTH),
        "For an Assessment that has not been completed, the start date must fall within the census year",
        lambda c: pl.col(AUTH).is_null() & c.outside_year(pl.col(START)),
    ),
    rule(
        "8614",
        "assessments",
        (AUTH, FACTOR),
        "Parental or child factors at assessment should only be present for a completed assessment.",
        _8614,
    ),
    rule(
        "8869",
        "assessments",
        (FACTOR,),
        'The assessment factors code "21" cannot be used in conjunction with any other assessment factors.',
        _8869,
    ),
    rule(
        "8897Q",
        "assessments",
        (AUTH, FACTOR),
        "Parental or child factors at assessment information is missing from a completed assessment",
        _8897,
        uncertainty=f"query status (Bristol 2021-22 lists 8897 as an error); {_FACTORS_BEFORE_2018}",
    ),
    rule(
        "8617",
        "assessment_factors",
        (FACTOR,),
        "Code 8A has been returned. This code is not a valid code.",
        lambda ctx: ctx.lazy("assessment_factors").filter(pl.col(FACTOR) == "8A"),
        uncertainty="in the Bristol 2021-22 checks only (not in csc-validator-be-cin or the 2019-20 rule table)",
    ),
    rule(
        "8899Q",
        "assessments",
        (AUTH, FACTOR, "Disability"),
        "Please check: A child identified as having a disability does not have a disability factor recorded at "
        "the end of assessment.",
        _8899,
        uncertainty="in the Bristol 2021-22 checks only, which notes COLLECT may not flag every case it finds",
    ),
    rule(
        "8896",
        "assessments",
        (AUTH,),
        "Within one CINDetails group there are 2 or more open Assessments groups",
        _8896,
    ),
    rule(
        "8863Q",
        "assessments",
        (START, AUTH),
        "Please check: An Assessment is shown as starting when there is another Assessment ongoing",
        _8863,
        uncertainty="query status: the 2021-22 Bristol list has 8863 without the Q suffix",
    ),
    rule(
        "8898",
        "assessment_factors",
        (FACTOR,),
        "The assessment has more than one parental or child factors with the same code",
        _8898,
    ),
]


def _undivided(code: str) -> Rule:
    """8945Q/8950Q (2024-25): the undivided physical (18A) or sexual (19A) abuse code is still used."""
    split = {"18A": "'18B' or '18C'", "19A": "'19B' or '19C'"}[code]
    return row_rule(
        {"18A": "8945Q", "19A": "8950Q"}[code],
        "assessment_factors",
        (FACTOR,),
        f"Please check and either amend data or provide a reason: the assessment factors code '{code}' should "
        f"not be used ({split} should be used instead)",
        lambda c: pl.col(FACTOR) == code,
        first_year=2025,
    )


RULES_2025: dict[str, Rule] = {r.code: r for r in (_undivided("18A"), _undivided("19A"))}
