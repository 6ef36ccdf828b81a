"""The unit tables the published counts are taken over, one per counting unit, with every derived flag.

Each unit table has one row per thing counted (an episode of need, an assessment, a section 47 enquiry,
an initial conference, a child protection plan, an episode with assessment factors) and carries
``la_code`` and ``LAchildID``. Its columns are the counting concepts the data set descriptions filter on
(``cin_assets.datasets.catalogue``); this module is the one place each concept's expression is written.
Columns that need another staging table (child characteristics, disabilities, assessments, the previous
year's referrals, plan reviews) come from optional :class:`Part` joins that are only made when a data set
reads one of their columns, so each data set's staging inputs follow from its description.

Reporting year ``Y`` runs from 1 April ``Y-1`` to 31 March ``Y`` (both inclusive); "31 March" below is
the census reference date of ``Y``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from cin_assets.census import tables as census_tables
from cin_assets.census.calendar import census_period, in_year, working_days
from cin_assets.census.codes import (
    DISABILITIES,
    ETHNIC_GROUPS,
    ETHNIC_MINOR,
    ETHNICITY_NOT_KNOWN,
    NO_FACTORS,
    UNBORN,
    code_lists,
)

Frame = pl.DataFrame | pl.LazyFrame
Tables = Mapping[str, Frame]
CHILD = ("la_code", "LAchildID")
EPISODE = (*CHILD, "episode_id")
PLAN = (*EPISODE, "cpp_id")


@dataclass(frozen=True)
class Context:
    """One reporting year's staging tables (and the previous year's, where a measure looks back)."""

    year: int
    tables: Tables
    previous: Tables | None = None
    # unit tables already built this year, shared by the data sets built together (``build_all``)
    units: dict[tuple[str, tuple[Part, ...]], pl.DataFrame] | None = field(default=None, compare=False)
    # the LAs whose own rows are published (None: all); an earlier year's context whose units also count
    counted: frozenset[str] | None = None
    carried: Context | None = None
    # the LAs whose re-referrals look back only on their own year's referrals (a successor's first year)
    own_return: frozenset[str] = frozenset()

    @property
    def start(self) -> dt.date:
        return census_period(self.year)[0]

    @property
    def end(self) -> dt.date:
        return census_period(self.year)[1]

    def table(self, name: str) -> pl.LazyFrame:
        return _lazy(self.tables, name)

    def previous_table(self, name: str) -> pl.LazyFrame | None:
        return None if self.previous is None else _lazy(self.previous, name)


def _lazy(tables: Tables, name: str) -> pl.LazyFrame:
    frame = tables.get(name)
    if frame is None:
        return census_tables.empty(name).lazy()
    return frame.lazy()


@dataclass(frozen=True)
class Part:
    """Columns added to a unit table by joining another staging table (made only when read)."""

    provides: tuple[str, ...]
    add: Callable[[pl.LazyFrame, Context], pl.LazyFrame]
    staging: tuple[str, ...] = ()
    previous: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unit:
    """A unit table: ``base`` builds one row per counted item from ``staging``; ``parts`` add more."""

    name: str
    description: str
    staging: tuple[str, ...]
    base: Callable[[Context], pl.LazyFrame]
    parts: tuple[Part, ...] = field(default=())

    def parts_for(self, columns: Iterable[str]) -> tuple[Part, ...]:
        """The parts needed to provide ``columns`` (and the columns those parts read), in order."""
        wanted = set(columns)
        chosen: set[int] = set()
        changed = True
        while changed:
            changed = False
            for i, part in enumerate(self.parts):
                if i not in chosen and wanted.intersection(part.provides):
                    chosen.add(i)
                    wanted.update(part.needs)
                    changed = True
        return tuple(p for i, p in enumerate(self.parts) if i in chosen)

    def build(self, ctx: Context, columns: Iterable[str]) -> pl.LazyFrame:
        """The unit rows with the parts ``columns`` need: built once per year when ``ctx`` shares units."""
        parts = self.parts_for(columns)
        if ctx.units is None:
            frame = self.base(ctx)
            for part in parts:
                frame = part.add(frame, ctx)
            return frame
        key = (self.name, parts)
        if key not in ctx.units:
            base = (self.name, ())
            if base not in ctx.units:
                ctx.units[base] = self.base(ctx).collect()
            frame = ctx.units[base].lazy()
            for part in parts:
                frame = part.add(frame, ctx)
            ctx.units[key] = frame.collect()
        return ctx.units[key].lazy()

    def inputs(self, columns: Iterable[str]) -> tuple[set[str], set[str]]:
        """Staging tables read for ``columns``: (this year's, the previous year's)."""
        current, previous = set(self.staging), set()
        for part in self.parts_for(columns):
            current.update(part.staging)
            previous.update(part.previous)
        return current, previous


# --- shared concepts -------------------------------------------------------------------------------


def duration_band(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """The published duration bands, from ``start`` to ``end`` in calendar months and years.

    ``3m`` 3 months or less; ``3_6m`` more than 3 months, up to 6 months; ``6_12m`` more than 6 months,
    less than 1 year; ``1_2y`` 1 year or more, less than 2 years; ``2y`` 2 years or more. A month is a
    calendar month (31 January + 1 month = 29 February 2020).
    """
    return (
        pl.when(start.is_null() | end.is_null())
        .then(None)
        .when(end <= start.dt.offset_by("3mo"))
        .then(pl.lit("3m"))
        .when(end <= start.dt.offset_by("6mo"))
        .then(pl.lit("3_6m"))
        .when(end < start.dt.offset_by("1y"))
        .then(pl.lit("6_12m"))
        .when(end < start.dt.offset_by("2y"))
        .then(pl.lit("1_2y"))
        .otherwise(pl.lit("2y"))
    )


def _characteristics(frame: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """Child characteristics at 31 March: unborn, age group, gender group, ethnic group and minor group.

    A child without a date of birth (only an expected one) is unborn; age is in whole years at 31 March.
    Gender: 1 (Sex M from 2024-25) Male, 2 (F) Female, anything else "Unknown or indeterminate"; unborn children are not given a
    gender group. Ethnicity: DfE major groups (Chinese in "Other ethnic group"); refused, not yet obtained
    or missing is "Not known".
    """
    end = ctx.end
    dob = pl.col("PersonBirthDate")
    age, unborn = pl.col("_age"), pl.col("_unborn")
    code = pl.col("_ethnicity")
    major = pl.lit(ETHNICITY_NOT_KNOWN)
    for group, codes in reversed(ETHNIC_GROUPS.items()):
        major = pl.when(code.is_in(codes)).then(pl.lit(group)).otherwise(major)
    minor = code.replace_strict(ETHNIC_MINOR, default=None).fill_null(pl.lit(ETHNICITY_NOT_KNOWN))
    children = (
        ctx.table("children")
        .unique(subset=list(CHILD), keep="first", maintain_order=True)
        .with_columns(
            pl.col("Ethnicity").str.strip_chars().str.to_uppercase().alias("_ethnicity"),
            (pl.lit(end.year) - dob.dt.year() - (dob.dt.month() > end.month).cast(pl.Int32)).alias("_age"),
            (dob.is_null() | (dob > end)).alias("_unborn"),
        )
        .select(
            *CHILD,
            unborn.alias("unborn"),
            pl.when(unborn)
            .then(pl.lit(UNBORN))
            .when(age < 1)
            .then(pl.lit("Under 1"))
            .when(age < 5)
            .then(pl.lit("1 to 4"))
            .when(age < 10)
            .then(pl.lit("5 to 9"))
            .when(age < 16)
            .then(pl.lit("10 to 15"))
            .otherwise(pl.lit("16 and over"))
            .alias("age_group"),
            pl.when(unborn)
            .then(pl.lit(UNBORN))
            .when((pl.col("GenderCurrent") == "1") | (pl.col("Sex") == "M"))  # Sex from 2024-25
            .then(pl.lit("Male"))
            .when((pl.col("GenderCurrent") == "2") | (pl.col("Sex") == "F"))
            .then(pl.lit("Female"))
            .otherwise(pl.lit("Unknown or indeterminate"))
            .alias("gender_group"),
            major.alias("ethnic_group"),
            minor.alias("ethnic_minor"),
        )
    )
    joined = frame.join(children, on=list(CHILD), how="left")
    # A unit row whose child is missing from the children table has no date of birth: treat as unborn.
    return joined.with_columns(
        pl.col("unborn").fill_null(True),
        pl.col("age_group").fill_null(pl.lit(UNBORN)),
        pl.col("gender_group").fill_null(pl.lit(UNBORN)),
        pl.col("ethnic_group").fill_null(pl.lit(ETHNICITY_NOT_KNOWN)),
        pl.col("ethnic_minor").fill_null(pl.lit(ETHNICITY_NOT_KNOWN)),
    )


CHARACTERISTICS = Part(
    provides=("unborn", "age_group", "gender_group", "ethnic_group", "ethnic_minor"),
    add=_characteristics,
    staging=("children",),
)


def _disabilities(frame: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """Per child: ``disability_recorded`` (any code other than NONE) and ``disability_<CODE>`` flags."""
    code = pl.col("_code")
    flags = (
        ctx.table("disabilities")
        .select(*CHILD, pl.col("Disability").str.strip_chars().str.to_uppercase().alias("_code"))
        .group_by(list(CHILD))
        .agg(
            (code.is_in(DISABILITIES)).any().alias("disability_recorded"),
            *((code == c).any().alias(f"disability_{c}") for c in DISABILITIES),
        )
    )
    names = ["disability_recorded", *(f"disability_{c}" for c in DISABILITIES)]
    return frame.join(flags, on=list(CHILD), how="left").with_columns(pl.col(names).fill_null(False))


DISABILITY = Part(
    provides=("disability_recorded", *(f"disability_{c}" for c in DISABILITIES)),
    add=_disabilities,
    staging=("disabilities",),
)


# --- episodes of need ------------------------------------------------------------------------------


def _episodes(ctx: Context) -> pl.LazyFrame:
    """One row per CINdetails (referral), with the episode concepts.

    - ``referral_in_year``: CINreferralDate in the reporting year (every referral counts, NFA included).
    - ``nfa``: the referral resulted in no further action (ReferralNFA true).
    - ``assessed_not_in_need``: not NFA, and the case closed after assessment with no further action (RC8, or
      from 2022-23 RC9, closed after assessment and referred to early help), with an assessment in the
      return. DfE counts children "assessed not to be in need at assessment"; an RC8 closure with no
      assessment in the year's return (query 8825Q: the assessment, if any, was in an earlier year) was
      not assessed not in need this year, so it stays an episode of need and counts in B6 under RC8 (the
      texts are silent on this case; England 2020 B6 publishes 2,490 such closures, 0.7%).
    - ``episode_of_need``: a referral that was neither NFA nor assessed as not in need, referred on or
      before 31 March (DfE: such referrals are not in the children in need population).
    - ``open_at_31_march``: an episode of need with no closure date or one after 31 March.
    - ``open_in_year``: an episode of need open at some point in the year (no closure, or closure on or
      after 1 April).
    - ``started_in_year`` / ``ended_in_year``: an episode of need referred / closed in the year.
    - ``open_duration``: band of the time from referral to 31 March; ``ended_duration``: referral to
      closure (:func:`duration_band`).
    - ``need_code``: PrimaryNeedCode, "N0" (not stated) when missing.
    - ``closure_reason``: ReasonForClosure, with RC9 (from 2022-23) as RC8: both close a case after
      assessment, and B6 has one such reason.
    """
    start, end = ctx.start, ctx.end
    referral, closure = pl.col("CINreferralDate"), pl.col("CINclosureDate")
    nfa = pl.col("ReferralNFA").fill_null(False)
    # RC9 (2022-23 on: closed after assessment, referred to early help) is also "assessed not in need";
    # before its year it is no valid code (validation rejects it) and counts as no reason
    reason = pl.col("ReasonForClosure").str.strip_chars().str.to_uppercase()
    rc8 = reason.is_in(list(code_lists(ctx.year).closed_after_assessment)).fill_null(False)
    not_in_need = rc8 & ~nfa & pl.col("_assessed").fill_null(False)
    of_need = ~nfa & ~not_in_need & (referral <= end).fill_null(False)
    assessed = (
        ctx.table("assessments").select(*EPISODE).unique().with_columns(pl.lit(True).alias("_assessed"))
    )
    return (
        ctx.table("episodes")
        .with_row_index("_row")
        .join(assessed, on=list(EPISODE), how="left", maintain_order="left")
        .with_columns(
            in_year(referral, ctx.year).alias("referral_in_year"),
            nfa.alias("nfa"),
            not_in_need.alias("assessed_not_in_need"),
            of_need.alias("episode_of_need"),
            (of_need & (closure.is_null() | (closure > end)).fill_null(False)).alias("open_at_31_march"),
            (of_need & (closure.is_null() | (closure >= start)).fill_null(False)).alias("open_in_year"),
            (of_need & in_year(referral, ctx.year)).alias("started_in_year"),
            (of_need & in_year(closure, ctx.year)).alias("ended_in_year"),
            duration_band(referral, pl.lit(end)).alias("open_duration"),
            duration_band(referral, closure).alias("ended_duration"),
            pl.col("PrimaryNeedCode").str.strip_chars().str.to_uppercase().fill_null("N0").alias("need_code"),
            # B6 has one "closed after assessment" reason: RC9 (from its year) counts with RC8 there
            pl.when(rc8).then(pl.lit("RC8")).otherwise(reason).alias("closure_reason"),
            pl.col("ReferralSource").str.strip_chars().str.to_uppercase().alias("referral_source"),
        )
        .drop("_assessed")
    )


def _awaiting_assessment(frame: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """``awaiting_assessment``: an episode open at 31 March that started in the year and has no assessment
    started on or before 31 March (awaiting assessment, or no assessment required). An episode whose
    assessment is under way is not awaiting one.

    Only episodes starting in the year are judged: a return holds only the assessments of its own year,
    so an older episode's assessment is in an earlier census."""
    done = (
        ctx.table("assessments")
        .filter(pl.col("AssessmentActualStartDate") <= ctx.end)
        .select(*EPISODE)
        .unique()
        .with_columns(pl.lit(True).alias("_assessed"))
    )
    return (
        frame.join(done, on=list(EPISODE), how="left")
        .with_columns(
            (pl.col("open_at_31_march") & pl.col("started_in_year") & pl.col("_assessed").is_null()).alias(
                "awaiting_assessment"
            )
        )
        .drop("_assessed")
    )


# Columns of a previous year's staging table that look-back measures read (all they may be given).
LOOKBACK_COLUMNS: dict[str, tuple[str, ...]] = {"episodes": (*CHILD, "CINreferralDate")}


def _re_referrals(frame: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """``re_referral``: a referral in the year made within 12 months of the child's previous referral
    (a referral on an earlier date, at most one year earlier, found in this or the previous year's
    census of the same LA). Null for an LA with no previous-year census (first year, new LA):
    the 12-month history is not available there. An LA of ``ctx.own_return`` (a successor's first year,
    as DfE counted it) looks back only on its referrals in the year: a child referred again in the year.

    ``rereferral_available``: true on rows of LAs whose previous census is available, and of
    ``ctx.own_return``'s."""
    previous = ctx.previous_table("episodes")
    dates = pl.col("CINreferralDate")
    own = pl.col("la_code").is_in(sorted(ctx.own_return))
    current = ctx.table("episodes").select(*CHILD, dates).filter(~own | (dates >= ctx.start))
    known = pl.DataFrame({"la_code": sorted(ctx.own_return)}, schema={"la_code": pl.String}).lazy()
    if previous is None:
        history = current
    else:
        history = pl.concat([current, previous.select(LOOKBACK_COLUMNS["episodes"])])
        known = pl.concat([known, previous.select("la_code")]).unique()
    history = (
        history.drop_nulls("CINreferralDate")
        .unique()
        .rename({"CINreferralDate": "_previous_referral"})
        .sort("_previous_referral")
    )
    referrals = (
        frame.filter(pl.col("referral_in_year"))
        .select("_row", *CHILD, dates)
        .sort("CINreferralDate")
        .join_asof(
            history,
            left_on="CINreferralDate",
            right_on="_previous_referral",
            by=list(CHILD),
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .select(
            "_row",
            (pl.col("_previous_referral") >= dates.dt.offset_by("-1y")).fill_null(False).alias("_within_12m"),
        )
    )
    available = known.with_columns(pl.lit(True).alias("rereferral_available"))
    return (
        frame.join(referrals, on="_row", how="left")
        .join(available, on="la_code", how="left")
        .with_columns(pl.col("rereferral_available").fill_null(False))
        .with_columns(
            pl.when(pl.col("rereferral_available"))
            .then(pl.col("referral_in_year") & pl.col("_within_12m").fill_null(False))
            .alias("re_referral")
        )
        .drop("_within_12m")
    )


EPISODES = Unit(
    name="episodes",
    description="one row per referral (CINdetails) in the census return",
    staging=("episodes", "assessments"),
    base=_episodes,
    parts=(
        CHARACTERISTICS,
        DISABILITY,
        Part(
            provides=("awaiting_assessment",),
            add=_awaiting_assessment,
            staging=("assessments",),
            needs=("open_at_31_march", "started_in_year"),
        ),
        Part(
            provides=("re_referral", "rereferral_available"),
            add=_re_referrals,
            staging=("episodes",),
            previous=("episodes",),
            needs=("referral_in_year",),
        ),
    ),
)


# --- assessments -----------------------------------------------------------------------------------

ASSESSMENT_BANDS = (
    ("same_day", 0, 0),
    ("1_10", 1, 10),
    ("11_20", 11, 20),
    ("21_30", 21, 30),
    ("31_40", 31, 40),
    ("41_45", 41, 45),
    ("46_50", 46, 50),
    ("51_60", 51, 60),
    ("61_plus", 61, None),
)


def _band(days: pl.Expr, bands: Iterable[tuple[str, int, int | None]]) -> pl.Expr:
    """The band ``days`` falls in. ``days`` is read once per band: pass a column, not a computation."""
    expr = pl.lit(None, dtype=pl.String)
    for name, low, high in reversed(tuple(bands)):
        cond = days >= low if high is None else days.is_between(low, high)
        expr = pl.when(cond).then(pl.lit(name)).otherwise(expr)
    return expr


def _assessments(ctx: Context) -> pl.LazyFrame:
    """One row per assessment.

    - ``completed_in_year``: authorised (AssessmentAuthorisationDate) in the year, with a start date.
    - ``assessment_days``: working days from the start to authorisation (0 = same day; an authorisation
      recorded before the start counts as the same day); ``assessment_band`` its published band.
    """
    start, done = pl.col("AssessmentActualStartDate"), pl.col("AssessmentAuthorisationDate")
    days = working_days(start, done).clip(lower_bound=0)
    return (
        ctx.table("assessments")
        .with_columns(
            (in_year(done, ctx.year) & start.is_not_null()).alias("completed_in_year"),
            days.alias("assessment_days"),
        )
        .with_columns(_band(pl.col("assessment_days"), ASSESSMENT_BANDS).alias("assessment_band"))
    )


ASSESSMENTS = Unit(
    name="assessments",
    description="one row per assessment in the census return",
    staging=("assessments",),
    base=_assessments,
)


def _factor_episodes(ctx: Context) -> pl.LazyFrame:
    """One row per episode with at least one assessment completed in the year.

    ``factors``: the distinct factor codes recorded at the end of those assessments (upper case);
    ``any_factor``: at least one factor other than 21 ("no factors identified")."""
    completed = (
        _assessments(ctx).filter(pl.col("completed_in_year")).select(*EPISODE, "assessment_id").unique()
    )
    codes = ctx.table("assessment_factors").select(
        *EPISODE,
        "assessment_id",
        pl.col("AssessmentFactors").str.strip_chars().str.to_uppercase().alias("code"),
    )
    per_episode = (
        completed.join(codes, on=[*EPISODE, "assessment_id"], how="left")
        .group_by(list(EPISODE))
        .agg(pl.col("code").drop_nulls().unique().sort().alias("factors"))
    )
    return per_episode.with_columns(
        pl.col("factors")
        .list.eval(pl.element() != NO_FACTORS)
        .list.any()
        .fill_null(False)
        .alias("any_factor")
    )


FACTOR_EPISODES = Unit(
    name="factor_episodes",
    description="one row per episode with an assessment completed in the year",
    staging=("assessments", "assessment_factors"),
    base=_factor_episodes,
)


# --- section 47 enquiries and initial child protection conferences ----------------------------------


def _section47(ctx: Context) -> pl.LazyFrame:
    """One row per section 47 enquiry; ``s47_in_year``: S47ActualStartDate in the year."""
    return ctx.table("section47").with_columns(
        in_year(pl.col("S47ActualStartDate"), ctx.year).alias("s47_in_year")
    )


SECTION47 = Unit(
    name="section47",
    description="one row per section 47 enquiry in the census return",
    staging=("section47",),
    base=_section47,
    parts=(CHARACTERISTICS,),
)

ICPC_BANDS = (("0_10", 0, 10), ("11_15", 11, 15), ("16_20", 16, 20), ("21_plus", 21, None))


def _icpcs(ctx: Context) -> pl.LazyFrame:
    """One row per initial child protection conference (ICPC).

    Conferences are recorded on a section 47 enquiry (DateOfInitialCPC) or, without an enquiry, on the
    episode (CINdetails DateOfInitialCPC). The same child's conference on the same date is one
    conference, counted once (the S47 record is kept, the latest-starting enquiry if several).

    - ``icpc_in_year``: the conference date is in the year.
    - ``icpc_days``: working days from the start of the section 47 enquiry to the conference (null for
      conferences without an enquiry); ``icpc_band`` its published band.
    """
    s47 = ctx.table("section47").select(
        *EPISODE,
        pl.col("DateOfInitialCPC").alias("icpc_date"),
        pl.col("S47ActualStartDate").alias("s47_start"),
    )
    episode_level = ctx.table("episodes").select(
        *EPISODE,
        pl.col("DateOfInitialCPC").alias("icpc_date"),
        pl.lit(None, dtype=pl.Date).alias("s47_start"),
    )
    days = working_days(pl.col("s47_start"), pl.col("icpc_date"))
    return (
        pl.concat([s47, episode_level])
        .drop_nulls("icpc_date")
        .sort([*CHILD, "icpc_date", "s47_start"], descending=[False, False, False, True], nulls_last=True)
        .unique(subset=[*CHILD, "icpc_date"], keep="first", maintain_order=True)
        .with_columns(
            in_year(pl.col("icpc_date"), ctx.year).alias("icpc_in_year"),
            days.alias("icpc_days"),
        )
        .with_columns(_band(pl.col("icpc_days"), ICPC_BANDS).alias("icpc_band"))
    )


ICPCS = Unit(
    name="icpcs",
    description="one row per initial child protection conference (S47 and episode level, counted once)",
    staging=("section47", "episodes"),
    base=_icpcs,
)


# --- child protection plans ------------------------------------------------------------------------


def _cpps(ctx: Context) -> pl.LazyFrame:
    """One row per child protection plan (CPP).

    - ``cpp_started``: CPPstartDate in the year; ``cpp_ended``: CPPendDate in the year (plan with a start).
    - ``cpp_open_at_31_march``: started on or before 31 March with no end date or one after it.
    - ``cpp_open_in_year``: open at some point in the year (started on or before 31 March, not ended
      before 1 April).
    - ``cpp_subsequent``: a second or subsequent plan: NumberOfPreviousCPP above 0, or the child has a
      plan starting earlier in the same return.
    - ``initial_category`` / ``latest_category``: InitialCategoryOfAbuse / LatestCategoryOfAbuse.
    - ``cpp_open_duration``: band of the time from the start to 31 March; ``cpp_ended_duration``: from
      the start to the end (:func:`duration_band`).
    - ``cpp_lasted_3_months``: open at 31 March and started at least 3 months before (on or before
      31 December).
    - ``cpp_ended_first_half``: ended between 1 April and 30 September of the year.
    """
    start, end = ctx.start, ctx.end
    begin, finish = pl.col("CPPstartDate"), pl.col("CPPendDate")
    open_at_31 = ((begin <= end) & (finish.is_null() | (finish > end))).fill_null(False)
    earlier = (begin > begin.min().over(list(CHILD))).fill_null(False)
    return ctx.table("cpps").with_columns(
        in_year(begin, ctx.year).alias("cpp_started"),
        (in_year(finish, ctx.year) & begin.is_not_null()).alias("cpp_ended"),
        open_at_31.alias("cpp_open_at_31_march"),
        ((begin <= end) & (finish.is_null() | (finish >= start))).fill_null(False).alias("cpp_open_in_year"),
        ((pl.col("NumberOfPreviousCPP") > 0).fill_null(False) | earlier).alias("cpp_subsequent"),
        pl.col("InitialCategoryOfAbuse").str.strip_chars().str.to_uppercase().alias("initial_category"),
        pl.col("LatestCategoryOfAbuse").str.strip_chars().str.to_uppercase().alias("latest_category"),
        duration_band(begin, pl.lit(end)).alias("cpp_open_duration"),
        duration_band(begin, finish).alias("cpp_ended_duration"),
        (open_at_31 & (begin <= pl.lit(end).dt.offset_by("-3mo"))).alias("cpp_lasted_3_months"),
        finish.is_between(start, dt.date(start.year, 9, 30), closed="both")
        .fill_null(False)
        .alias("cpp_ended_first_half"),
    )


def _reviews(frame: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """``cpp_reviewed_on_time``: for a plan open at 31 March that had lasted at least 3 months, whether
    every review due in the year was held in time: the first review within 3 months of the plan start,
    each later review within 6 months of the previous one, and at 31 March the last review (or the start,
    if none) no more than 6 (or 3) months earlier. An interval is judged when it ends in the year. A
    return holds only the reviews held in the year, so the interval from an earlier plan start to the
    first review in the year is not judged (null where the plan is not judged)."""
    start, end = ctx.start, ctx.end
    plans = frame.filter(pl.col("cpp_lasted_3_months")).select(*PLAN, pl.col("CPPstartDate").alias("_date"))
    reviews = (
        ctx.table("cpp_reviews")
        .select(*PLAN, pl.col("CPPreviewDate").alias("_date"))
        .join(plans.rename({"_date": "_plan_start"}), on=list(PLAN), how="inner")
        .filter((pl.col("_date") > pl.col("_plan_start")) & (pl.col("_date") <= end))
        .select(*PLAN, "_date")
        .unique()
    )
    points = pl.concat(
        [
            plans.with_columns(pl.lit(0).alias("_kind")),  # plan start
            reviews.with_columns(pl.lit(1).alias("_kind")),  # review
            plans.with_columns(pl.lit(end).alias("_date"), pl.lit(2).alias("_kind")),  # 31 March
        ]
    ).sort([*PLAN, "_date", "_kind"])
    previous = pl.col("_date").shift(1).over(list(PLAN))
    due = (
        pl.when(pl.col("_kind").shift(1).over(list(PLAN)) == 0)
        .then(previous.dt.offset_by("3mo"))
        .otherwise(previous.dt.offset_by("6mo"))
    )
    # A return holds only the year's reviews: the first one of a plan that started before the year may
    # follow earlier reviews the return does not show, so that interval is not judged.
    unseen = (pl.col("_kind") == 1) & (pl.col("_kind").shift(1).over(list(PLAN)) == 0) & (previous < start)
    late = (pl.col("_kind") > 0) & (pl.col("_date") >= start) & (pl.col("_date") > due) & ~unseen
    verdict = (
        points.with_columns(late.fill_null(False).alias("_late"))
        .group_by(list(PLAN))
        .agg((~pl.col("_late").any()).alias("cpp_reviewed_on_time"))
    )
    return frame.join(verdict, on=list(PLAN), how="left")


def _in_need_after_plan(frame: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """``in_need_after_plan``: for a plan that ended, how long the child remained in need afterwards (the
    plan's episode of need closing): ``0`` the episode closed on (or before) the plan's end date, ``3m``
    within 3 months after it, ``3_6m`` more than 3 and up to 6 months after, ``6m`` still in need more
    than 6 months after (closed later, or still open)."""
    closures = (
        ctx.table("episodes")
        .select(*EPISODE, pl.col("CINclosureDate").alias("_closed"))
        .unique(subset=list(EPISODE), keep="first")
    )
    finish, closed = pl.col("CPPendDate"), pl.col("_closed")
    band = (
        pl.when(finish.is_null())
        .then(None)
        .when(closed <= finish)
        .then(pl.lit("0"))
        .when(closed <= finish.dt.offset_by("3mo"))
        .then(pl.lit("3m"))
        .when(closed <= finish.dt.offset_by("6mo"))
        .then(pl.lit("3_6m"))
        .otherwise(pl.lit("6m"))
    )
    return (
        frame.join(closures, on=list(EPISODE), how="left")
        .with_columns(band.alias("in_need_after_plan"))
        .drop("_closed")
    )


CPPS = Unit(
    name="cpps",
    description="one row per child protection plan in the census return",
    staging=("cpps",),
    base=_cpps,
    parts=(
        CHARACTERISTICS,
        Part(
            provides=("cpp_reviewed_on_time",),
            add=_reviews,
            staging=("cpp_reviews",),
            needs=("cpp_lasted_3_months",),
        ),
        Part(provides=("in_need_after_plan",), add=_in_need_after_plan, staging=("episodes",)),
    ),
)

UNITS: dict[str, Unit] = {u.name: u for u in (EPISODES, ASSESSMENTS, FACTOR_EPISODES, SECTION47, ICPCS, CPPS)}
