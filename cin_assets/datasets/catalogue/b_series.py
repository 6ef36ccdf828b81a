"""B1-B6: children in need and episodes of need by local authority."""

from __future__ import annotations

from cin_assets.census.codes import DISABILITIES
from cin_assets.datasets.catalogue.common import (
    AT31,
    CENSUS_GUIDE,
    CIN,
    CIN_DEFINITION,
    DATA_GUIDANCE,
    DURATION_NOTE,
    ENDED_EPISODES,
    EPISODE_NOTE,
    FIRST,
    LAST,
    RATE_NOTE,
    SOURCE_EPISODES,
    banded,
    cite,
    col,
    count,
    need_bands,
    percent,
    rate,
)
from cin_assets.datasets.catalogue.relations import RELATIONS
from cin_assets.datasets.description import ColumnSum, DataSet

ANYPOINT_EPISODES = count(
    "Anypoint_episodes",
    "Episodes of need at any point in the year",
    "episodes",
    col("open_in_year"),
    "Episodes of need open at any point in the year: referred on or before 31 March and not closed before "
    "1 April.",
    grouping=CIN,
)
ANYPOINT_CHILD = count(
    "Anypoint_child",
    "Children in need at any point in the year",
    "episodes",
    col("open_in_year"),
    "Children with at least one episode of need open at any point in the year (each child counted once).",
    children=True,
    grouping=CIN,
)
STARTED_EPISODES = count(
    "Started_episodes",
    "Episodes of need starting in the year",
    "episodes",
    col("started_in_year"),
    "Episodes of need whose referral date is in the year.",
    grouping=CIN,
)
STARTED_CHILD = count(
    "Started_child",
    "Children starting an episode of need in the year",
    "episodes",
    col("started_in_year"),
    "Children with at least one episode of need starting in the year (each child counted once).",
    children=True,
    grouping=CIN,
)
ENDED_CHILD = count(
    "Ended_child",
    "Children ending an episode of need in the year",
    "episodes",
    col("ended_in_year"),
    "Children with at least one episode of need ending in the year (each child counted once).",
    children=True,
    grouping=CIN,
)
AWAITING = count(
    "Awaiting_assessment",
    "Children awaiting assessment or assessment not required at 31 March",
    "episodes",
    col("awaiting_assessment"),
    "Episodes of need open at 31 March that started in the year and had no assessment started on or "
    "before 31 March (awaiting assessment, or no assessment required); an assessment under way does not "
    "count. Episodes starting in earlier years are not included: their assessments were returned in "
    "earlier censuses.",
    grouping=CIN,
    source=cite(
        SOURCE_EPISODES,
        note="DfE's texts name the measure (children in need at 31 March awaiting assessment or with no "
        "assessment required) but give no rule; chosen: episodes of need open at 31 March, started in the "
        "year, with no assessment started by 31 March, which the generator reproduces per LA.",
    ),
)

_RATE_LABELS = {"Awaiting_assessment": "Awaiting assessment or not required at 31 March (rate per 10,000)"}
B1 = DataSet(
    code="B1",
    relations=RELATIONS["B1"],
    source=SOURCE_EPISODES,
    stem="b1_children_in_need_2013_to_2020",
    title="Children in need and episodes of need by local authority, 2013 to 2020",
    description=(
        "Episodes of need and children in need at any point in the year, starting and ending in the year, "
        "children in need at 31 March and children awaiting assessment at 31 March, with rates per 10,000 "
        "children, by local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Children in Need",
    indicators=tuple(
        x
        for ind in (
            ANYPOINT_EPISODES,
            ANYPOINT_CHILD,
            STARTED_EPISODES,
            STARTED_CHILD,
            ENDED_EPISODES,
            ENDED_CHILD,
            AT31,
            AWAITING,
        )
        for x in (ind, rate(ind, label=_RATE_LABELS.get(ind.name)))
    ),
    footnotes=(CIN_DEFINITION, EPISODE_NOTE, RATE_NOTE),
    provenance="Columns as in the 2023 release's B1 file (2020 rows; reference data E23B1).",
    columns_evidence="later release",
)

_DISABILITY = {
    "AUT": ("Autism", "Autism or Asperger syndrome"),
    "BEH": ("Behaviour", "Behaviour"),
    "COMM": ("Communication", "Communication"),
    "CON": ("Consciousness", "Consciousness"),
    "DDA": ("DDA", "Other (Equality Act)"),
    "HAND": ("Hand_function", "Hand function"),
    "HEAR": ("Hearing", "Hearing"),
    "INC": ("Incontinence", "Incontinence"),
    "LD": ("Learning", "Learning"),
    "MOB": ("Mobility", "Mobility"),
    "PC": ("Personal_care", "Personal care"),
    "VIS": ("Vision", "Vision"),
}
DISABLED = count(
    "At31_episodes_disability_recorded",
    "Children in need at 31 March with a disability recorded",
    "episodes",
    col("open_at_31_march") & col("disability_recorded"),
    "Children in need at 31 March with at least one disability code other than NONE recorded.",
    grouping="Disability",
)
_disability_types = []
for _code in sorted(DISABILITIES):  # published in the codes' alphabetical order
    _name, _label = _DISABILITY[_code]
    _ind = count(
        _name,
        f"Disability: {_label[0].lower() + _label[1:]}",
        "episodes",
        col("open_at_31_march") & col(f"disability_{_code}"),
        f"Children in need at 31 March with disability code {_code} ({_label.lower()}) recorded.",
        measure=f"At31_disability_{_code}",
        grouping="Disability",
    )
    _disability_types += [
        _ind,
        percent(_ind, DISABLED, label=f"{_ind.label} (% of children with a disability)"),
    ]

B2 = DataSet(
    code="B2",
    relations=RELATIONS["B2"],
    source=cite(
        SOURCE_EPISODES,
        CENSUS_GUIDE + " (Disability codes)",
        DATA_GUIDANCE + " (B2: Equality Act 2010; several disabilities per child)",
    ),
    stem="b2_cin_disability_2013_to_2020",
    title="Children in need at 31 March by recorded disability, 2013 to 2020",
    description=(
        "Children in need at 31 March with a disability recorded, and the type of disability, by local "
        "authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Recorded disability",
    indicators=(
        AT31,
        DISABLED,
        percent(DISABLED, AT31, name="At31episodes_disability_recorded_percent"),
        *_disability_types,
    ),
    footnotes=(
        CIN_DEFINITION,
        "Disability as defined by the Equality Act 2010. A child can have more than one disability, so the "
        "percentages for the types of disability can add up to more than 100; they are percentages of the "
        "children with a disability recorded.",
    ),
    provenance=(
        "2020 catalogue page (15 variables): At31_episodes, At31_episodes_disability_recorded, "
        "At31episodes_disability_recorded_percent (sic) and a percentage per disability type; type names "
        "beyond Autism and Behaviour inferred from the census codes. The count per type is added next to its "
        "percentage so that disclosure control can suppress the small counts the percentages would reveal."
    ),
    columns_evidence="2020 release",
)

_need, _need_sum = need_bands()
B3 = DataSet(
    code="B3",
    source=cite(SOURCE_EPISODES, CENSUS_GUIDE + " (PrimaryNeedCode N0 to N9, recorded at assessment)"),
    stem="b3_cin_primary_need_2013_to_2020",
    title="Children in need at 31 March by primary need at assessment, 2013 to 2020",
    description="Children in need at 31 March by their primary need at assessment, by local authority.",
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Primary need",
    indicators=(AT31, *_need),
    column_sums=(_need_sum,),
    footnotes=(
        CIN_DEFINITION,
        "Primary need is the main reason the child was assessed as in need (census codes N0 to N9); an "
        "episode with no code recorded is counted as not stated.",
    ),
    provenance="No 2020 column list found; one count and percentage per primary need code (N0 to N9).",
)

_DURATIONS = (
    ("3_months_or_less", "3 months or less", "3m"),
    ("more_than_3_months_6_months", "More than 3 months and up to 6 months", "3_6m"),
    ("more_than_6_months_less_than_1_year", "More than 6 months but less than 1 year", "6_12m"),
    ("1_year_less_than_2_years", "1 year but less than 2 years", "1_2y"),
    ("2_years_or_more", "2 years or more", "2y"),
)
_open, _open_sum = banded(AT31, "open_duration", _DURATIONS, measure_prefix="At31_duration")
B4 = DataSet(
    code="B4",
    source=cite(SOURCE_EPISODES, DATA_GUIDANCE + " (duration of open case: 31 March minus referral date)"),
    stem="b4_cin_duration_of_open_episode_2013_to_2020",
    title="Children in need at 31 March by duration of episode of need, 2013 to 2020",
    description=(
        "Children in need at 31 March by how long their episode of need had been open (referral date to "
        "31 March), by local authority."
    ),
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Duration of open episode",
    indicators=(AT31, *_open),
    column_sums=(_open_sum,),
    footnotes=(CIN_DEFINITION, "Duration is from the referral date to 31 March. " + DURATION_NOTE),
    provenance=(
        "No 2020 column list found; duration bands as in LAIT's CINTime indicators, column names as in the "
        "later releases' D5 file."
    ),
)

_ENDED_DURATIONS = (*_DURATIONS[:4], ("2years+", "2 years or more", "2y"))
_ended, _ended_sum = banded(
    ENDED_EPISODES, "ended_duration", _ENDED_DURATIONS, measure_prefix="Ended_duration"
)
B5 = DataSet(
    code="B5",
    source=cite(SOURCE_EPISODES, DATA_GUIDANCE + " (duration of episode: closure date minus referral date)"),
    stem="b5_cin_duration_of_ended_episode_2013_to_2020",
    title="Episodes of need ending in the year by duration, 2013 to 2020",
    description="Episodes of need ending in the year by their duration (referral to closure), by local authority.",
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Duration of ended episode",
    indicators=(ENDED_EPISODES, *_ended),
    column_sums=(_ended_sum,),
    footnotes=(
        CIN_DEFINITION,
        EPISODE_NOTE,
        "Duration is from the referral date to the closure date. " + DURATION_NOTE,
    ),
    provenance="Columns as in the later releases' B5 file (2023/2024 catalogue pages).",
    columns_evidence="later release",
)

# The 2020 file has eight reason pairs; its last pair holds 93.4% of ended episodes. That can only be RC7
# (services ceased): referrals closed RC8 after an assessment in the year are assessed not in need, not
# episodes of need (B1's episodes at any point are exactly those at 31 March plus those ending). The 0.7%
# pair before it is RC8 closures with no assessment in the year's return (query 8825Q), which stay episodes
# of need. Pairs in the 2020 file's order: RC1..RC6, RC8, RC7.
_REASONS = (
    ("RC1_Adopted", "Adopted", "RC1"),
    ("RC2_Died", "Died", "RC2"),
    ("RC3_Child_arrangements_order", "Child arrangements order", "RC3"),
    ("RC4_Special_guardianship_order", "Special guardianship order", "RC4"),
    ("RC5_Transferred_to_another_LA", "Transferred to services of another local authority", "RC5"),
    ("RC6_Transferred_to_adult_social_care", "Transferred to adult social care", "RC6"),
    ("RC8_Case_closed_after_assessment", "Case closed after assessment, no further action", "RC8"),
    ("RC7_Services_ceased", "Services ceased for any other reason", "RC7"),
)
_REASON_SOURCE = cite(
    CENSUS_GUIDE + " (ReasonForClosure codes RC1 to RC8)",
    DATA_GUIDANCE + " (B6: eight reasons, number and percentage; RC1_Adopted, RC2_Died)",
    note="DfE's texts do not name the pairs after RC2; the order RC1..RC6, RC8, RC7 is chosen because it "
    "reproduces the 2020 figures (the last pair holds 93.4% of ended episodes, which only services ceased "
    "can, since RC8 not-in-need closures are not episodes of need). The texts do not say which RC8 "
    "closures are episodes of need; chosen: those with no assessment in the year's return (query 8825Q), "
    "not assessed not in need in the year (England 2020: 2,490, 0.7%)",
)
_reasons = []
for _name, _label, _code in _REASONS:
    _ind = count(
        _name,
        f"Episodes ending: {_label.lower()}",
        "episodes",
        col("ended_in_year") & (col("closure_reason") == _code),
        f"Episodes of need ending in the year with reason for closure {_code} ({_label.lower()})"
        + (
            ", and from 2023 RC9 (case closed after assessment, referred to early help)."
            if _code == "RC8"
            else "."
        ),
        measure=f"Ended_reason_{_code}",
        grouping="Reason for closure",
        source=_REASON_SOURCE,
    )
    _reasons += [_ind, percent(_ind, ENDED_EPISODES)]
B6 = DataSet(
    code="B6",
    source=cite(SOURCE_EPISODES, CENSUS_GUIDE + " (ReasonForClosure)"),
    stem="b6_cin_reason_for_closure_2013_to_2020",
    title="Episodes of need ending in the year by reason for closure, 2013 to 2020",
    description="Episodes of need ending in the year by the reason the case was closed, by local authority.",
    geography="la",
    first_year=FIRST,
    last_year=LAST,
    category="Reason for episode closure",
    indicators=(ENDED_EPISODES, *_reasons),
    column_sums=(ColumnSum(ENDED_EPISODES.name, tuple(r.name for r in _reasons if r.unit == "count")),),
    footnotes=(
        CIN_DEFINITION,
        EPISODE_NOTE,
        "The reason for closure is why the local authority stopped providing services. Referrals closed "
        "after an assessment in the year with no further action because the child was not in need are not "
        "episodes of need and so are not in this table; RC8 counts episodes of need closed with that reason "
        "with no assessment in the year.",
    ),
    provenance=(
        "2020 catalogue page: Ended_episodes plus 8 reasons as number and percentage (RC1_Adopted, RC2_Died "
        "confirmed). The other names are inferred from the census codes, in the order that reproduces the "
        "2020 figures (RC7, 93.4% of closures, last)."
    ),
    columns_evidence="2020 release",
)

DATASETS = (B1, B2, B3, B4, B5, B6)
