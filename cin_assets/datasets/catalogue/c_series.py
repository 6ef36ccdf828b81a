"""C1-C5: referrals, assessments, factors at assessment, section 47 enquiries and ICPCs."""

from __future__ import annotations

import polars as pl

from cin_assets.census.codes import REFERRAL_SOURCE_GROUPS, factors_first_year
from cin_assets.datasets.catalogue.common import (
    CENSUS_GUIDE,
    CIN_DEFINITION,
    DATA_GUIDANCE,
    FIRST,
    LAST,
    METHODOLOGY_2019,
    RATE_NOTE,
    REFERRAL_DEFINITION,
    REFERRALS,
    REREFERRAL_NOTE,
    S47_DEFINITION,
    SOURCE_S47,
    WORKING_DAYS_NOTE,
    banded,
    cite,
    col,
    count,
    days,
    percent,
    rate,
)
from cin_assets.datasets.catalogue.relations import RELATIONS
from cin_assets.datasets.description import ColumnSum, DataSet

# --- C1 referrals and re-referrals -----------------------------------------------------------------

RE_REFERRALS = count(
    "Re_referrals",
    "Re-referrals within 12 months of a previous referral",
    "episodes",
    col("referral_in_year") & col("re_referral"),
    "Referrals in the year made within 12 months of the same child's previous referral (an earlier referral "
    "date at most one year before, in this or the previous year's census).",
    available=col("rereferral_available"),
    grouping="Referrals",
    source=METHODOLOGY_2019 + ": 'Calculating referrals within 12 months of a previous referral'",
)
NFA = count(
    "No_Further_Action",
    "Referrals resulting in no further action",
    "episodes",
    col("referral_in_year") & col("nfa"),
    "Referrals in the year that resulted in no further action (ReferralNFA true).",
    grouping="Referrals",
    source=cite(
        METHODOLOGY_2019 + ": 'Calculating referrals resulting in no further action'",
        CENSUS_GUIDE + " (ReferralNFA)",
    ),
)
NOT_IN_NEED = count(
    "Not_in_Need",
    "Referrals assessed as not in need",
    "episodes",
    col("referral_in_year") & col("assessed_not_in_need"),
    "Referrals in the year where the child was assessed and the case closed with no further action "
    "(reason for closure RC8, with an assessment in the year's return).",
    grouping="Referrals",
    source=cite(
        METHODOLOGY_2019 + ": 'Calculating children assessed not to be in need at assessment'",
        CENSUS_GUIDE + " (RC8: case closed after assessment, no further action; query 8825Q: RC8 with no "
        "assessment)",
        note="DfE's texts count children assessed not to be in need at assessment and do not say what an RC8 "
        "closure with no assessment in the year counts as; chosen: it was not assessed not in need in the "
        "year, so it stays an episode of need (B6 RC8, England 2020: 2,490)",
    ),
)
REFERRALS_CHILD = count(
    "Referrals_child",
    "Children referred in the year",
    "episodes",
    col("referral_in_year"),
    "Children with at least one referral in the year (each child counted once).",
    children=True,
    grouping="Referrals",
)
RE_REFERRALS_CHILD = count(
    "Re_referrals_child",
    "Children re-referred within 12 months of a previous referral",
    "episodes",
    col("referral_in_year") & col("re_referral"),
    "Children with at least one re-referral in the year (each child counted once).",
    children=True,
    available=col("rereferral_available"),
    grouping="Referrals",
)

C1 = DataSet(
    code="C1",
    relations=RELATIONS["C1"],
    source=cite(
        METHODOLOGY_2019
        + ": 'Number of referrals', 'Calculating referrals within 12 months of a previous referral', 'Calculating referrals resulting in no further action', 'Calculating children assessed not to be in need at assessment'"
    ),
    stem="c1_referrals_and_rereferrals_2013_to_2020",
    title="Referrals and re-referrals by local authority, 2013 to 2020",
    description=(
        "Referrals to children's social care, re-referrals within 12 months of a previous referral, "
        "referrals resulting in no further action and referrals assessed as not in need, by local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Referrals and Re-referrals",
    indicators=(
        REFERRALS,
        rate(REFERRALS),
        RE_REFERRALS,
        percent(RE_REFERRALS, REFERRALS),
        NFA,
        percent(NFA, REFERRALS),
        NOT_IN_NEED,
        percent(NOT_IN_NEED, REFERRALS),
        REFERRALS_CHILD,
        rate(REFERRALS_CHILD),
        RE_REFERRALS_CHILD,
        percent(RE_REFERRALS_CHILD, REFERRALS_CHILD),
    ),
    footnotes=(REFERRAL_DEFINITION, REREFERRAL_NOTE, RATE_NOTE),
    provenance="Columns as in the 2023 release's C1 file (2020 rows; reference data E23C1).",
    columns_evidence="later release",
)

# --- C2 assessments --------------------------------------------------------------------------------

ASSESSMENTS_COMPLETED = count(
    "Assessments_completed",
    "Assessments completed in the year",
    "assessments",
    col("completed_in_year"),
    "Assessments authorised (completed) in the year.",
    grouping="Assessments",
    source=cite(
        METHODOLOGY_2019 + ": 'Number of assessments completed', 'Duration of assessments'",
        note="DfE's texts give durations in working days from start to authorisation and a Same_day band; they do not say how the day count is taken: counted from the day after the start (same day = 0), as for the S47 to ICPC duration.",
    ),
)
_ASSESSMENT_BANDS = (
    ("Same_day", "Completed on the day it started", "same_day"),
    ("1-10_days", "Completed in 1 to 10 working days", "1_10"),
    ("11-20_days", "Completed in 11 to 20 working days", "11_20"),
    ("21-30_days", "Completed in 21 to 30 working days", "21_30"),
    ("31-40_days", "Completed in 31 to 40 working days", "31_40"),
    ("41-45_days", "Completed in 41 to 45 working days", "41_45"),
    ("46-50_days", "Completed in 46 to 50 working days", "46_50"),
    ("51-60_days", "Completed in 51 to 60 working days", "51_60"),
    ("61+_days", "Completed in 61 or more working days", "61_plus"),
)
_assessment_bands, _assessment_sum = banded(
    ASSESSMENTS_COMPLETED,
    "assessment_band",
    _ASSESSMENT_BANDS,
    measure_prefix="Assessments_days",
    with_percent=False,
)
_ASSESSMENT_DAYS = "Working days from the start of the assessment to its authorisation"
C2 = DataSet(
    code="C2",
    source=cite(
        METHODOLOGY_2019 + ": 'Number of assessments completed', 'Duration of assessments'",
        CENSUS_GUIDE + " (assessment start and authorisation dates)",
    ),
    stem="c2_assessments_duration_2014_to_2020",
    title="Assessments completed in the year by duration, 2014 to 2020",
    description=(
        "Assessments completed in the year by the number of working days from start to completion, with the "
        "25th percentile, median and 75th percentile durations, by local authority."
    ),
    geography="la",
    first_year=2014,
    last_year=LAST,
    category="Duration of assessment",
    indicators=(
        ASSESSMENTS_COMPLETED,
        rate(ASSESSMENTS_COMPLETED),
        *_assessment_bands,
        days(
            "25th_Percentile_days",
            "Assessment duration - 25th percentile (working days)",
            ASSESSMENTS_COMPLETED,
            "assessment_days",
            0.25,
            f"{_ASSESSMENT_DAYS}: 25th percentile over the assessments completed in the year.",
        ),
        days(
            "Median_days",
            "Assessment duration - median (working days)",
            ASSESSMENTS_COMPLETED,
            "assessment_days",
            0.5,
            f"{_ASSESSMENT_DAYS}: median over the assessments completed in the year.",
        ),
        days(
            "75th_Percentile_days",
            "Assessment duration - 75th percentile (working days)",
            ASSESSMENTS_COMPLETED,
            "assessment_days",
            0.75,
            f"{_ASSESSMENT_DAYS}: 75th percentile over the assessments completed in the year.",
        ),
    ),
    column_sums=(_assessment_sum,),
    footnotes=(
        CIN_DEFINITION,
        "Assessments should be completed within 45 working days of the referral. Percentiles are computed "
        "from the individual assessments in each area (linear interpolation), not from local authority "
        "figures.",
        WORKING_DAYS_NOTE,
        RATE_NOTE,
    ),
    provenance=(
        "No 2020 file found; columns as in the 2025 release's C2 catalogue page, plus the rate shown in "
        "the A1 time series."
    ),
    columns_evidence="later release",
)

# --- C3 factors identified at the end of assessment ------------------------------------------------

_PEOPLE = (
    ("child", "A", "the child"),
    ("parent", "B", "a parent or carer"),
    ("person", "C", "another person"),
)
_FACTORS: list[tuple[str, str, tuple[str, ...]]] = []
for _stem, _number, _what in (
    ("Alcohol_Misuse", "1", "alcohol misuse"),
    ("Drug_Misuse", "2", "drug misuse"),
    ("Domestic_Abuse", "3", "domestic abuse"),
    ("Mental_Health", "4", "mental health"),
    ("Learning_Disability", "5", "learning disability"),
    ("Physical_Disability", "6", "physical disability or illness"),
):
    for _who, _letter, _whom in _PEOPLE:
        _FACTORS.append((f"{_stem}_{_who}", f"{_what.capitalize()}: {_whom}", (f"{_number}{_letter}",)))
_FACTORS += [
    ("Young_Carer", "Young carer", ("7A",)),
    ("Privately_fostered", "Privately fostered", ("8B", "8C", "8D", "8E", "8F")),
    ("Unaccompanied_asylum_seeker", "Unaccompanied asylum-seeking child", ("9A",)),
    ("Going_missing", "Going or being missing", ("10A",)),
    ("Child_sexual_exploitation", "Child sexual exploitation", ("11A",)),
    ("Trafficking", "Trafficking", ("12A",)),
    ("Gangs", "Gangs", ("13A",)),
    ("Socially_unacceptable_behaviour", "Socially unacceptable behaviour", ("14A",)),
    ("Self_harm", "Self-harm", ("15A",)),
    ("Neglect", "Neglect", ("16A",)),
    ("Emotional_Abuse", "Emotional abuse", ("17A",)),
    ("Physical_Abuse_unknown", "Physical abuse", ("18A",)),
    ("Physical_Abuse_child_on_child", "Physical abuse: child on child", ("18B",)),
    ("Physical_Abuse_adult_on_child", "Physical abuse: adult on child", ("18C",)),
    ("Sexual_Abuse_unknown", "Sexual abuse", ("19A",)),
    ("Sexual_Abuse_child_on_child", "Sexual abuse: child on child", ("19B",)),
    ("Sexual_Abuse_adult_on_child", "Sexual abuse: adult on child", ("19C",)),
    ("Female_Genital_Mutilation", "Female genital mutilation", ("22A",)),
    ("Faith_linked_abuse", "Abuse linked to faith or belief", ("23A",)),
    ("Child_criminal_exploitation", "Child criminal exploitation", ("24A",)),
    ("Other", "Other", ("20",)),
]
WITH_FACTORS = count(
    "Episodes_with_assessment_factor",
    "Episodes with factors identified at the end of assessment",
    "factor_episodes",
    col("any_factor"),
    "Episodes with an assessment completed in the year at whose end at least one factor was recorded "
    "(code 21 'no factors identified' does not count).",
    grouping="Factors identified at the end of assessment",
)
_factor_columns = [
    count(
        name,
        f"Factor: {label.lower()}",
        "factor_episodes",
        col("factors").list.eval(pl.element().is_in(codes)).list.any().fill_null(False),
        f"Episodes where {label.lower()} was identified (code {', '.join(codes)}) at the end of an assessment "
        "completed in the year.",
        measure=f"factor_{name}",
        grouping="Factors identified at the end of assessment",
        first_year=factors_first_year(
            codes
        ),  # not available before its codes were collected, as in the published C3
    )
    for name, label, codes in _FACTORS
]
C3 = DataSet(
    code="C3",
    relations=RELATIONS["C3"],
    source=cite(
        METHODOLOGY_2019 + ": 'Factors identified at the end of assessment'",
        CENSUS_GUIDE + " (assessment factor codes)",
    ),
    stem="c3_factors_at_end_of_assessment_2018_to_2020",
    title="Factors identified at the end of assessment, 2018 to 2020",
    description=(
        "Episodes of need with an assessment completed in the year, by the factors identified at the end of "
        "the assessment, by local authority."
    ),
    geography="la",
    first_year=2018,
    last_year=LAST,
    category="Factors identified at the end of assessment",
    indicators=(WITH_FACTORS, *_factor_columns),
    footnotes=(
        CIN_DEFINITION,
        "An episode can have several factors, so the factor counts add up to more than the number of "
        "episodes. Each factor is counted once per episode, whichever of the episode's assessments "
        "completed in the year recorded it.",
        "Physical and sexual abuse were not split by who the abuser was before 2021: the child-on-child and "
        "adult-on-child columns are not available before 2021, and the undivided code is counted as _unknown "
        "in every year. Child criminal exploitation was collected from 2022.",
    ),
    provenance=(
        "Columns as in the 2025 release's C3 file (reference data E25C3); the child-on-child/adult-on-child "
        "columns from 2021 and child criminal exploitation from 2022, as published."
    ),
    columns_evidence="later release",
    legacy_names=("Female_Genital_Mutilation",),
)

# --- C4 section 47 enquiries and ICPCs --------------------------------------------------------------

S47 = count(
    "Section47",
    "Section 47 enquiries starting in the year",
    "section47",
    col("s47_in_year"),
    "Section 47 enquiries with a start date (S47ActualStartDate) in the year.",
    grouping="Section 47 enquiries",
)
S47_CHILD = count(
    "Section47_child",
    "Children subject to a section 47 enquiry in the year",
    "section47",
    col("s47_in_year"),
    "Children with at least one section 47 enquiry starting in the year (each child counted once).",
    children=True,
    grouping="Section 47 enquiries",
)
ICPC = count(
    "ICPC",
    "Initial child protection conferences in the year",
    "icpcs",
    col("icpc_in_year"),
    "Initial child protection conferences held in the year, whether recorded on a section 47 enquiry or on "
    "the episode; the same child's conference on the same date is counted once.",
    grouping="Initial child protection conferences",
)
ICPC_CHILD = count(
    "ICPC_child",
    "Children subject to an initial child protection conference in the year",
    "icpcs",
    col("icpc_in_year"),
    "Children with at least one initial child protection conference in the year (each child counted once).",
    children=True,
    grouping="Initial child protection conferences",
)
WITH_S47 = count(
    "ICPC_with_section47",
    "Initial child protection conferences following a section 47 enquiry",
    "icpcs",
    col("icpc_in_year") & col("icpc_days").is_not_null(),
    "Initial child protection conferences in the year recorded on a section 47 enquiry (the conferences "
    "whose time from the start of the enquiry is known).",
    grouping="Initial child protection conferences",
)
_ICPC_BANDS = (
    ("Duration_0-10_days", "ICPC held 0 to 10 working days after the S47 started", "0_10"),
    ("Duration_11-15_days", "ICPC held 11 to 15 working days after the S47 started", "11_15"),
    ("Duration_16-20_days", "ICPC held 16 to 20 working days after the S47 started", "16_20"),
    ("Duration_21+_days", "ICPC held 21 or more working days after the S47 started", "21_plus"),
)
_icpc_bands, _icpc_sum = banded(
    WITH_S47, "icpc_band", _ICPC_BANDS, measure_prefix="ICPC_days", with_percent=False
)
_ICPC_DAYS = (
    "Working days from the start of the section 47 enquiry to the initial child protection conference"
)
C4 = DataSet(
    code="C4",
    relations=RELATIONS["C4"],
    source=SOURCE_S47,
    stem="c4_section47_and_icpc_2013_to_2020",
    title="Section 47 enquiries and initial child protection conferences by local authority, 2013 to 2020",
    description=(
        "Section 47 enquiries and initial child protection conferences in the year, the children subject to "
        "them, and the working days from the start of the enquiry to the conference, by local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Section 47s and Initial Child Protection Conferences",
    indicators=(
        S47,
        rate(S47),
        S47_CHILD,
        rate(S47_CHILD),
        ICPC,
        rate(ICPC),
        ICPC_CHILD,
        rate(ICPC_CHILD, label="Children subject to an ICPC in the year (rate per 10,000)"),
        WITH_S47,
        *_icpc_bands,
        days(
            "Duration_25th_Percentile",
            "Working days from S47 start to ICPC - 25th percentile",
            WITH_S47,
            "icpc_days",
            0.25,
            f"{_ICPC_DAYS}: 25th percentile over the conferences following an enquiry.",
        ),
        days(
            "Duration_median",
            "Working days from S47 start to ICPC - median",
            WITH_S47,
            "icpc_days",
            0.5,
            f"{_ICPC_DAYS}: median over the conferences following an enquiry.",
        ),
        days(
            "Duration_75th_Percentile",
            "Working days from S47 start to ICPC - 75th percentile",
            WITH_S47,
            "icpc_days",
            0.75,
            f"{_ICPC_DAYS}: 75th percentile over the conferences following an enquiry.",
        ),
    ),
    column_sums=(_icpc_sum,),
    footnotes=(S47_DEFINITION, WORKING_DAYS_NOTE, RATE_NOTE),
    provenance=(
        "Counts and durations as in the 2025 release's C4 file (reference data E25C4), rates as in the 2023 "
        "release; ICPC_with_section47 is added as the total the four duration bands add up to."
    ),
    columns_evidence="later release",
)

# --- C5 referrals by source ------------------------------------------------------------------------

_SOURCES = tuple(
    (name, label, REFERRAL_SOURCE_GROUPS[name])
    for name, label in (
        ("Individual", "Individual"),
        ("Schools", "Schools"),
        ("Education_Services", "Education services"),
        ("Health_Services", "Health services"),
        ("Housing", "Housing"),
        ("LA_Services", "Local authority services"),
        ("Police", "Police"),
        ("Other_legal_agency", "Other legal agency"),
        ("Other", "Other"),
        ("Anonymous", "Anonymous"),
    )
)
_known_sources = [c for _, _, codes in _SOURCES for c in codes]
_source_columns = [
    count(
        name,
        f"Referrals from: {label.lower()}",
        "episodes",
        col("referral_in_year") & col("referral_source").is_in(codes).fill_null(False),
        f"Referrals in the year whose source was {label.lower()} (code {', '.join(codes)}).",
        measure=f"Referrals_source_{name}",
        grouping="Source of referral",
    )
    for name, label, codes in _SOURCES
]
_source_columns.append(
    count(
        "Unknown",
        "Referrals from: unknown",
        "episodes",
        col("referral_in_year") & ~col("referral_source").is_in(_known_sources).fill_null(False),
        "Referrals in the year whose source was unknown (code 10, or no valid code).",
        measure="Referrals_source_Unknown",
        grouping="Source of referral",
    )
)
C5 = DataSet(
    code="C5",
    source=cite(
        CENSUS_GUIDE + " (ReferralSource codes)",
        DATA_GUIDANCE + " (C5: source groups; first referral of a day)",
    ),
    stem="c5_referrals_by_source_2014_to_2020",
    title="Referrals by source of referral, 2014 to 2020",
    description="Referrals to children's social care in the year by source of referral, by local authority.",
    geography="la",
    first_year=2014,
    last_year=LAST,
    category="Source of referral",
    indicators=(REFERRALS, *_source_columns),
    column_sums=(ColumnSum(REFERRALS.name, tuple(c.name for c in _source_columns)),),
    footnotes=(
        REFERRAL_DEFINITION,
        "The source is recorded for each new referral; if a child was referred more than once on the same "
        "day, only the first referral of that day is recorded.",
        "Health services: GP, health visitor, school nurse, other primary health services, A&E and other "
        "health services. Local authority services: social care, other internal and external local authority "
        "services. Individual: family member, relative or carer, acquaintance, self, other individual.",
    ),
    provenance=(
        "2020 catalogue page: 12 variables, Referrals plus 11 sources (Education_Services, Health_Services "
        "and Anonymous confirmed; other names inferred from the census source codes)."
    ),
    columns_evidence="2020 release",
)

DATASETS = (C1, C2, C3, C4, C5)
