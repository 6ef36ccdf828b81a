"""Episode (CINdetails) rules: referral, closure, NFA, primary need, and what an episode may contain."""

from __future__ import annotations

import datetime as dt

import polars as pl

from cin_assets.validation.rule import (
    ASSESSMENT_KEY,
    CHILD_KEY,
    EPISODE_KEY,
    Context,
    Rule,
    repeated,
    row_rule,
    rule,
    text,
    with_parent,
)

REF, CLOSE, NFA = "CINreferralDate", "CINclosureDate", "ReferralNFA"
_REFERRAL_SOURCE_FROM = dt.date(2013, 4, 1)


def _activity(ctx: Context) -> pl.LazyFrame:
    """Episodes with their line and module counts/latest dates."""
    return with_parent(ctx.lazy("episodes").select(*EPISODE_KEY, "line"), ctx.episode_activity, EPISODE_KEY)


def _with_child(ctx: Context) -> pl.LazyFrame:
    return with_parent(ctx.lazy("episodes"), ctx.child_facts, CHILD_KEY)


def _8555(ctx: Context) -> pl.LazyFrame:
    return _with_child(ctx).filter(pl.col(REF) > pl.col("PersonDeathDate"))


def _8585(ctx: Context) -> pl.LazyFrame:
    return _with_child(ctx).filter(
        (pl.col("ReasonForClosure") == "RC2") & pl.col("PersonDeathDate").is_null()
    )


def _8606(ctx: Context) -> pl.LazyFrame:
    days = pl.duration(days=280)
    return _with_child(ctx).filter(
        (pl.col(REF) < pl.col("PersonBirthDate") - days)
        | (pl.col(REF) < pl.col("ExpectedPersonBirthDate") - days)
    )


def _8565(ctx: Context) -> pl.LazyFrame:
    close = pl.col(CLOSE)
    return (
        _activity(ctx)
        .filter(
            (close < pl.col("EpisodeInitialCPC"))
            | (close < pl.col("last_assessment"))
            | (close < pl.col("last_s47"))
            | (close < pl.col("last_cpp_end"))
        )
        .with_columns(
            text(
                "CINclosureDate={}; latest activity={}",
                close,
                pl.max_horizontal("EpisodeInitialCPC", "last_assessment", "last_s47", "last_cpp_end"),
            ).alias("value")
        )
    )


def _open_further_action(ctx: Context) -> pl.Expr:
    return pl.col(CLOSE).is_null() & ctx.nfa_false()


def _8815(ctx: Context) -> pl.LazyFrame:
    return repeated(ctx.lazy("episodes"), _open_further_action(ctx), CHILD_KEY)


def _8816(ctx: Context) -> pl.LazyFrame:
    latest = ctx.lazy("episodes").group_by(list(CHILD_KEY)).agg(latest=pl.col(REF).max())
    return (
        ctx.lazy("episodes")
        .filter(_open_further_action(ctx))
        .join(latest, on=list(CHILD_KEY), how="left", nulls_equal=True)
        .filter(pl.col(REF) < pl.col("latest"))
    )


def _8820(ctx: Context) -> pl.LazyFrame:
    """A referral may not fall inside another episode of the child: from that episode's referral up to (not
    on) its closure, or, for an open further-action episode, up to the ReferenceDate."""
    ref_date = ctx.census.reference_date
    other = ctx.lazy("episodes").select(
        *CHILD_KEY,
        pl.col("episode_id").alias("other_id"),
        pl.col(REF).alias("other_ref"),
        pl.col(CLOSE).alias("other_close"),
        ctx.nfa_false().alias("other_further_action"),
    )
    ref = pl.col(REF)
    inside = (ref >= pl.col("other_ref")) & (
        pl.when(pl.col("other_close").is_not_null())
        .then(ref < pl.col("other_close"))
        .otherwise(pl.col("other_further_action") & (ref <= ref_date))
    )
    return (
        ctx.lazy("episodes")
        .join(other, on=list(CHILD_KEY), nulls_equal=True)
        .filter((pl.col("episode_id") != pl.col("other_id")) & inside.fill_null(False))
        .unique(subset=list(EPISODE_KEY), keep="first")
    )


def _8825(ctx: Context) -> pl.LazyFrame:
    return _activity(ctx).filter(_closed_after_assessment(ctx) & (pl.col("n_assessments") == 0))


def _8831(ctx: Context) -> pl.LazyFrame:
    return _activity(ctx).filter(
        pl.col(NFA).fill_null(False)
        & (
            pl.col("any_assessment_dates")
            | pl.col("any_s47_dates")
            | pl.col("EpisodeInitialCPC").is_not_null()
        )
    )


def _8832(ctx: Context) -> pl.LazyFrame:
    return _activity(ctx).filter(pl.col(NFA).fill_null(False) & (pl.col("n_cpp") > 0))


def _8867(ctx: Context) -> pl.LazyFrame:
    return _activity(ctx).filter(pl.col(CLOSE).is_not_null() & (pl.col("n_open_assessments") > 0))


def _8868(ctx: Context) -> pl.LazyFrame:
    return _activity(ctx).filter(pl.col(CLOSE).is_not_null() & (pl.col("n_open_s47") > 0))


def _closed_after_assessment(ctx: Context) -> pl.Expr:
    """RC8 (and RC9 from 2022-23): the episode closed after its assessment."""
    return pl.col("ReasonForClosure").is_in(list(ctx.census.codes.closed_after_assessment))


def _2990(ctx: Context) -> pl.LazyFrame:
    """From 2021-22 a CIN plan is activity too (an empty table before then)."""
    plans = ctx.lazy("cin_plans").select(EPISODE_KEY).unique().with_columns(has_plan=pl.lit(True))
    return (
        _activity(ctx)
        .join(plans, on=list(EPISODE_KEY), how="left", nulls_equal=True)
        .filter(
            _closed_after_assessment(ctx)
            & (
                (pl.col("n_s47") > 0)
                | (pl.col("n_cpp") > 0)
                | pl.col("EpisodeInitialCPC").is_not_null()
                | pl.col("has_plan").fill_null(False)
            )
        )
        .drop("has_plan")
    )


def _2991(ctx: Context) -> pl.LazyFrame:
    return _activity(ctx).filter((pl.col("n_s47") > 0) & (pl.col("n_assessments") == 0))


def _8873(ctx: Context) -> pl.LazyFrame:
    single_21 = (
        ctx.lazy("assessments")
        .select(ASSESSMENT_KEY)
        .join(ctx.factor_summary.lazy(), on=list(ASSESSMENT_KEY), how="left", nulls_equal=True)
        .group_by(list(EPISODE_KEY))
        .agg(n=pl.len(), has_21=pl.col("has_21").fill_null(False).any())
        .filter((pl.col("n") == 1) & pl.col("has_21"))
        .select(EPISODE_KEY)
    )
    return (
        ctx.lazy("episodes")
        .join(single_21, on=list(EPISODE_KEY), how="semi", nulls_equal=True)
        .filter(pl.col("ReasonForClosure").is_not_null() & ~_closed_after_assessment(ctx))
    )


RULES: list[Rule] = [
    row_rule(
        "8600",
        "episodes",
        (REF,),
        "Child referral date is missing or out of data collection period",
        lambda c: pl.col(REF).is_null() | (pl.col(REF) > c.reference_date),
    ),
    rule(
        "8606",
        "episodes",
        (REF, "PersonBirthDate", "ExpectedPersonBirthDate"),
        "Child referral date is more than 40 weeks before DOB or expected DOB",
        _8606,
    ),
    rule(
        "8555Q",
        "episodes",
        (REF, "PersonDeathDate"),
        "Please check: Child cannot be referred after its recorded date of death",
        _8555,
        uncertainty="query status: the 2021-22 Bristol list has 8555 without the Q suffix",
    ),
    row_rule(
        "8866",
        "episodes",
        (REF, "ReferralSource"),
        "Source of Referral is missing or an invalid code",
        lambda c: (
            (pl.col(REF) >= _REFERRAL_SOURCE_FROM)
            & ~pl.col("ReferralSource").is_in(list(c.codes.referral_source)).fill_null(False)
        ),
    ),
    row_rule(
        "8610",
        "episodes",
        ("PrimaryNeedCode", NFA),
        "Primary Need code is missing for a referral which led to further action",
        lambda c: (pl.col(NFA) == False) & pl.col("PrimaryNeedCode").is_null(),  # noqa: E712
    ),
    row_rule(
        "8650",
        "episodes",
        ("PrimaryNeedCode",),
        "Primary Need Code invalid (see Primary Need table in CIN census code set)",
        lambda c: (
            pl.col("PrimaryNeedCode").is_not_null()
            & ~pl.col("PrimaryNeedCode").is_in(list(c.codes.primary_need))
        ),
        uncertainty="N0 accepted as in the schema and csc-validator-be-cin; the Bristol toolkit omits it",
    ),
    row_rule(
        "8620",
        "episodes",
        (CLOSE,),
        "CIN Closure Date present and does not fall within the Census year",
        lambda c: c.outside_year(pl.col(CLOSE)),
    ),
    row_rule(
        "8630",
        "episodes",
        (REF, CLOSE),
        "CIN Closure Date is before CIN Referral Date for the same CIN episode",
        lambda c: pl.col(CLOSE) < pl.col(REF),
    ),
    row_rule(
        "8640",
        "episodes",
        ("ReasonForClosure",),
        "CIN Reason for closure code invalid (see Reason for Closure table in CIN Census code set)",
        lambda c: (
            pl.col("ReasonForClosure").is_not_null()
            & ~pl.col("ReasonForClosure").is_in(list(c.codes.closure_reason))
        ),
    ),
    row_rule(
        "8805",
        "episodes",
        (CLOSE, "ReasonForClosure"),
        "A CIN case cannot have a CIN closure date without a Reason for Closure",
        lambda c: pl.col(CLOSE).is_not_null() & pl.col("ReasonForClosure").is_null(),
    ),
    row_rule(
        "8810",
        "episodes",
        (CLOSE, "ReasonForClosure"),
        "A CIN case cannot have a Reason for Closure without a CIN Closure Date",
        lambda c: pl.col(CLOSE).is_null() & pl.col("ReasonForClosure").is_not_null(),
    ),
    row_rule("8568", "episodes", (NFA,), "RNFA flag is missing or invalid", lambda c: pl.col(NFA).is_null()),
    row_rule(
        "8569Q",
        "episodes",
        (REF, NFA),
        "A case with referral date before one working day prior to the collection start date must not be "
        "flagged as a no further action case",
        lambda c: (pl.col(REF) < c.day_before_start) & pl.col(NFA).fill_null(False),
        uncertainty="query status: the 2021-22 Bristol list has 8569 without the Q suffix",
    ),
    rule(
        "8585Q",
        "episodes",
        ("ReasonForClosure", "PersonDeathDate"),
        "Please check: CIN episode shows Died as the Closure Reason, however child has no recorded Date of Death",
        _8585,
    ),
    rule(
        "8565",
        "episodes",
        (CLOSE,),
        "Activity shown after a case has been closed",
        _8565,
    ),
    rule(
        "8815",
        "episodes",
        (CLOSE, NFA),
        "More than one open CIN Details episode (a module with no CIN Closure Date) has been provided for this "
        "child and case is not a referral with no further action.",
        _8815,
    ),
    rule(
        "8816",
        "episodes",
        (REF, NFA),
        "An open CIN episode is shown and case is not a referral with no further action, but it is not the "
        "latest episode.",
        _8816,
    ),
    rule(
        "8820",
        "episodes",
        (REF, CLOSE),
        "The dates on the CIN episodes for this child overlap",
        _8820,
    ),
    rule(
        "8825Q",
        "episodes",
        ("ReasonForClosure", "Assessments"),
        "Please check: Reason for Closure code RC8 (case closed after assessment) has been returned but there is "
        "no assessment present for the episode.",
        _8825,
    ),
    rule(
        "8831",
        "episodes",
        (NFA, "Assessments", "Section47", "DateOfInitialCPC"),
        "Activity is recorded against a case marked as a referral with no further action",
        _8831,
    ),
    rule(
        "8832",
        "episodes",
        (NFA, "ChildProtectionPlans"),
        "Child Protection details provided for a referral with no further action",
        _8832,
    ),
    rule(
        "8867",
        "episodes",
        (CLOSE, "AssessmentAuthorisationDate"),
        "CIN episode is shown as closed, however Assessment is not shown as completed",
        _8867,
    ),
    rule(
        "8868",
        "episodes",
        (CLOSE, "DateOfInitialCPC", "ICPCnotRequired"),
        "CIN episode is shown as closed, however Section 47 enquiry is not shown as completed by ICPC date or "
        "ICPC not required flag",
        _8868,
    ),
    rule(
        "2990",
        "episodes",
        ("ReasonForClosure", "Section47", "ChildProtectionPlans", "DateOfInitialCPC"),
        "Activity is recorded against a case marked as 'Case closed after assessment, no further action'",
        _2990,
    ),
    rule(
        "2991Q",
        "episodes",
        ("Section47", "Assessments"),
        "Please check: A Section 47 module is recorded and there is no assessment on the episode",
        _2991,
    ),
    rule(
        "8873Q",
        "episodes",
        ("ReasonForClosure", "AssessmentFactors"),
        'Please check: When there is only one assessment on the episode and the factors code "21 No factors '
        "identified\" has been used for the completed assessment, the reason for closure 'RC8' must be used.",
        _8873,
        uncertainty="query status (Bristol 2021-22 lists 8873 as an error); only closed episodes are checked",
    ),
]
