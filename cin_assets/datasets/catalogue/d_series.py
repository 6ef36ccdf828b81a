"""D1-D8: child protection plans by local authority."""

from __future__ import annotations

from cin_assets.datasets.catalogue.common import (
    CATEGORY_NOTE,
    CENSUS_GUIDE,
    CPP_AT31,
    CPP_DEFINITION,
    CPP_END,
    CPP_START,
    DATA_GUIDANCE,
    DURATION_NOTE,
    FIRST,
    LAST,
    METHODOLOGY_2019,
    RATE_NOTE,
    SOURCE_CPP,
    SOURCE_EPISODES,
    banded,
    category_columns,
    cite,
    col,
    count,
    percent,
    rate,
)
from cin_assets.datasets.catalogue.relations import RELATIONS
from cin_assets.datasets.description import DataSet

_CPP = "Child protection plans"

CPP_CHILD_START = count(
    "CPP_child_start",
    "Children becoming the subject of a child protection plan in the year",
    "cpps",
    col("cpp_started"),
    "Children with at least one child protection plan starting in the year (each child counted once).",
    children=True,
    grouping=_CPP,
)
CPP_CHILD_END = count(
    "CPP_child_end",
    "Children ceasing to be the subject of a child protection plan in the year",
    "cpps",
    col("cpp_ended"),
    "Children with at least one child protection plan ending in the year (each child counted once).",
    children=True,
    grouping=_CPP,
)
CPP_ANYPOINT = count(
    "CPP_anypoint",
    "Child protection plans open at any point in the year",
    "cpps",
    col("cpp_open_in_year"),
    "Child protection plans open at some point in the year: started on or before 31 March and not ended "
    "before 1 April.",
    grouping=_CPP,
)
CPP_CHILD_ANYPOINT = count(
    "CPP_child_anypoint",
    "Children subject of a child protection plan at any point in the year",
    "cpps",
    col("cpp_open_in_year"),
    "Children with a child protection plan open at some point in the year (each child counted once).",
    children=True,
    grouping=_CPP,
)

D1 = DataSet(
    code="D1",
    relations=RELATIONS["D1"],
    source=SOURCE_CPP,
    stem="d1_cpp_2013_to_2020",
    title="Child protection plans by local authority, 2013 to 2020",
    description=(
        "Child protection plans starting, ending and open at any point in the year, the children subject to "
        "them, and children subject of a plan at 31 March, by local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Child Protection Plans",
    indicators=(
        CPP_START,
        rate(CPP_START),
        CPP_CHILD_START,
        CPP_END,
        rate(CPP_END),
        CPP_CHILD_END,
        CPP_ANYPOINT,
        CPP_CHILD_ANYPOINT,
        CPP_AT31,
        rate(CPP_AT31),
    ),
    footnotes=(CPP_DEFINITION, RATE_NOTE),
    provenance=(
        "Counts as in the 2025 release's D1 catalogue page; rates for plans starting, ending and at 31 March "
        "added as in the 2020 release's A2 and the 2023 release's rate columns."
    ),
    columns_evidence="later release",
)

_start_initial, _start_initial_sum = category_columns(CPP_START, "initial", "Plans starting")
_start_latest, _start_latest_sum = category_columns(CPP_START, "latest", "Plans starting")
D2 = DataSet(
    code="D2",
    source=cite(SOURCE_CPP, CENSUS_GUIDE + " (initial and latest category of abuse)", DATA_GUIDANCE),
    stem="d2_cpp_starting_by_category_2013_to_2020",
    title="Child protection plans starting in the year by category of abuse, 2013 to 2020",
    description=(
        "Child protection plans starting in the year by initial and latest category of abuse, by local "
        "authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Category of abuse",
    indicators=(CPP_START, *_start_initial, *_start_latest),
    column_sums=(_start_initial_sum, _start_latest_sum),
    footnotes=(CPP_DEFINITION, CATEGORY_NOTE),
    provenance="No 2020 column list found; category columns named as in the 2020 A6 file.",
)

CPP_SUBSEQUENT = count(
    "CPP_subsequent",
    "Second or subsequent plans starting in the year",
    "cpps",
    col("cpp_started") & col("cpp_subsequent"),
    "Plans starting in the year for a child who had been the subject of a plan before (NumberOfPreviousCPP "
    "above 0, or an earlier plan in the same return), at any time previously.",
    grouping=_CPP,
)
D3 = DataSet(
    code="D3",
    relations=RELATIONS["D3"],
    source=cite(SOURCE_CPP, CENSUS_GUIDE + " (NumberOfPreviousCPP)"),
    stem="d3_cpp_subsequent_plan_2013_to_2020",
    title="Child protection plans starting in the year which were a second or subsequent plan, 2013 to 2020",
    description=(
        "Child protection plans starting in the year and those which were a second or subsequent plan for "
        "the child, by local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Child Protection Plans which are a second or subsequent plan",
    indicators=(CPP_START, CPP_SUBSEQUENT, percent(CPP_SUBSEQUENT, CPP_START)),
    footnotes=(CPP_DEFINITION,),
    provenance="Columns as in the 2023 release's D3 file (2020 rows; reference data E23D3).",
    columns_evidence="later release",
)

_at31_initial, _at31_initial_sum = category_columns(CPP_AT31, "initial", "On a plan at 31 March")
_at31_latest, _at31_latest_sum = category_columns(CPP_AT31, "latest", "On a plan at 31 March")
D4 = DataSet(
    code="D4",
    source=cite(SOURCE_CPP, CENSUS_GUIDE + " (initial and latest category of abuse)", DATA_GUIDANCE),
    stem="d4_cpp_at31march_by_category_2013_to_2020",
    title="Children subject of a child protection plan at 31 March by category of abuse, 2013 to 2020",
    description=(
        "Children subject of a child protection plan at 31 March by initial and latest category of abuse, by "
        "local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Category of abuse",
    indicators=(CPP_AT31, *_at31_initial, *_at31_latest),
    column_sums=(_at31_initial_sum, _at31_latest_sum),
    footnotes=(CPP_DEFINITION, CATEGORY_NOTE),
    provenance="No 2020 column list found; category columns named as in the 2020 A6 file.",
)

_OPEN_DURATIONS = (
    ("3_months_or_less", "3 months or less", "3m"),
    ("more_than_3_months_6_months", "More than 3 months and up to 6 months", "3_6m"),
    ("more_than_6_months_less_than_1_year", "More than 6 months but less than 1 year", "6_12m"),
    ("1_year_less_than_2_years", "1 year but less than 2 years", "1_2y"),
    ("2_years_or_more", "2 years or more", "2y"),
)
_open, _open_sum = banded(CPP_AT31, "cpp_open_duration", _OPEN_DURATIONS, measure_prefix="CPP_At31_duration")
D5 = DataSet(
    code="D5",
    source=cite(SOURCE_CPP, DATA_GUIDANCE + " (D5: length of plan at 31 March)"),
    stem="d5_cpp_at31march_by_duration_2013_to_2020",
    title="Children subject of a child protection plan at 31 March by length of time on the plan, 2013 to 2020",
    description=(
        "Children subject of a child protection plan at 31 March by how long the plan had been open, by local "
        "authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Child Protection Plans by length of time",
    indicators=(CPP_AT31, *_open),
    column_sums=(_open_sum,),
    footnotes=(CPP_DEFINITION, "Length of time is from the plan's start date to 31 March. " + DURATION_NOTE),
    provenance="Columns as in the 2023 release's D5 file (2020 rows; reference data E23D5).",
    columns_evidence="later release",
)

CPP_3_MONTHS = count(
    "CPP_At31_3_months_or_more",
    "Children on a plan at 31 March for at least 3 months",
    "cpps",
    col("cpp_lasted_3_months"),
    "Child protection plans open at 31 March which started at least 3 months earlier (on or before "
    "31 December).",
    grouping="Reviews",
)
REVIEWED = count(
    "Reviewed_within_timescales",
    "Plans open 3 months or more with all reviews on time",
    "cpps",
    col("cpp_lasted_3_months") & col("cpp_reviewed_on_time").fill_null(False),
    "Of those plans, the ones whose reviews due in the year were all held in time: the first review within "
    "3 months of the start, then at intervals of no more than 6 months, with no review overdue at 31 March.",
    grouping="Reviews",
    source=cite(
        METHODOLOGY_2019 + ": 'Child protection plan reviews'",
        "LAIT RevCP and CPP_Reviewed_InReqTimeScl definitions",
        note="A return holds only the year's reviews, so the interval from a plan start before the year to "
        "its first review in the year is not judged.",
    ),
)
D6 = DataSet(
    code="D6",
    relations=RELATIONS["D6"],
    source=cite(METHODOLOGY_2019 + ": 'Child protection plan reviews'", CENSUS_GUIDE + " (CPPreviewDate)"),
    stem="d6_cpp_reviewed_within_timescales_2013_to_2020",
    title="Child protection plans reviewed within required timescales, 2013 to 2020",
    description=(
        "Children subject of a child protection plan at 31 March for at least 3 months, and those whose plan "
        "reviews were held within the required timescales, by local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Child Protection Plan reviews",
    indicators=(CPP_3_MONTHS, REVIEWED, percent(REVIEWED, CPP_3_MONTHS)),
    footnotes=(
        CPP_DEFINITION,
        "Reviews are judged from the plan's start and review dates in the census return; a review interval "
        "is judged when it ends in the year (a review, or 31 March for the time since the last review).",
    ),
    provenance="No 2020 column list found; measure as in LAIT's CPP_31March_3MnthorMore and RevCP indicators.",
)

_ENDED_DURATIONS = (
    ("3_months_or_less", "3 months or less", "3m"),
    ("3_6_months", "More than 3 months but less than or equal to 6 months", "3_6m"),
    ("6_months_1_year", "More than 6 months but less than 1 year", "6_12m"),
    ("1_2_years", "1 year but less than 2 years", "1_2y"),
    ("2_years+", "2 years and over", "2y"),
)
_ended, _ended_sum = banded(
    CPP_END, "cpp_ended_duration", _ENDED_DURATIONS, measure_prefix="CPP_end_duration"
)
D7 = DataSet(
    code="D7",
    source=cite(
        METHODOLOGY_2019 + ": 'Children who cease to be the subject of a plan'",
        DATA_GUIDANCE + " (D7: end date minus start date)",
    ),
    stem="d7_cpp_ended_by_duration_2013_to_2020",
    title="Child protection plans ending in the year by length of time, 2013 to 2020",
    description="Child protection plans ending in the year by how long the plan had lasted, by local authority.",
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Child Protection Plans ending by length of time",
    indicators=(CPP_END, *_ended),
    column_sums=(_ended_sum,),
    footnotes=(
        CPP_DEFINITION,
        "Length of time is from the plan's start date to its end date. If a child had more than one plan "
        "ending in the year, each plan is counted. " + DURATION_NOTE,
    ),
    provenance=(
        "2020 catalogue page: 11 variables (1_2_years, 2_years+, 3_6_months and their percentages confirmed; "
        "the total and the other two band names inferred)."
    ),
    columns_evidence="2020 release",
)

CPP_END_FIRST_HALF = count(
    "CPP_end_first_6_months",
    "Child protection plans ending between 1 April and 30 September",
    "cpps",
    col("cpp_ended") & col("cpp_ended_first_half"),
    "Child protection plans ending in the first six months of the year (1 April to 30 September), so that "
    "at least six months after the end are inside the year.",
    grouping="Plans ending",
)
_AFTER = (
    ("CIN_ended_with_plan", "Child ceased to be in need when the plan ended", "0"),
    ("CIN_ended_within_3_months", "Child ceased to be in need within 3 months of the plan ending", "3m"),
    ("CIN_ended_3_to_6_months", "Child ceased to be in need 3 to 6 months after the plan ended", "3_6m"),
    ("CIN_more_than_6_months", "Child still in need 6 months after the plan ended", "6m"),
)
_after, _after_sum = banded(
    CPP_END_FIRST_HALF, "in_need_after_plan", _AFTER, measure_prefix="CPP_end_in_need"
)
D8 = DataSet(
    code="D8",
    relations=RELATIONS["D8"],
    source=cite(SOURCE_CPP, SOURCE_EPISODES, DATA_GUIDANCE),
    stem="d8_cpp_ended_by_time_remaining_in_need_2013_to_2020",
    title="Child protection plans ending in the first six months of the year by how long the child remained in need",
    description=(
        "Child protection plans ending between 1 April and 30 September, by how long the child remained in "
        "need after the plan ended (until the plan's episode of need closed), by local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Child Protection Plans ending in the first six months of the year",
    indicators=(CPP_END_FIRST_HALF, *_after),
    column_sums=(_after_sum,),
    footnotes=(
        CPP_DEFINITION,
        "The child ceases to be in need when the episode of need the plan belongs to closes; an episode "
        "still open at 31 March, or closed more than 6 months after the plan, counts as more than 6 months. "
        + DURATION_NOTE,
    ),
    provenance="No 2020 column list or values found; bands inferred from the 2021 data set's description.",
)

DATASETS = (D1, D2, D3, D4, D5, D6, D7, D8)
