"""A1-A7: national time series and national tables by child characteristics."""

from __future__ import annotations

import polars as pl

from cin_assets.census.codes import ETHNIC_GROUPS, ETHNIC_MINOR, ETHNICITY_NOT_KNOWN
from cin_assets.datasets.catalogue.common import (
    AT31,
    CATEGORY_NOTE,
    CENSUS_GUIDE,
    CHARACTERISTICS_NOTE,
    CIN_DEFINITION,
    CPP_AT31,
    CPP_DEFINITION,
    DATA_GUIDANCE,
    EPISODE_NOTE,
    ETHNICITY_NOTE,
    FIRST,
    LAST,
    RATE_NOTE,
    REFERRAL_DEFINITION,
    REREFERRAL_NOTE,
    S47_DEFINITION,
    SOURCE_CHARACTERISTICS,
    SOURCE_CPP,
    SOURCE_EPISODES,
    SOURCE_REFERRALS,
    SOURCE_S47,
    category_columns,
    characteristic_rows,
    cite,
    col,
    count,
    need_bands,
    same,
)
from cin_assets.datasets.description import ColumnSum, DataSet, Filter, Indicator, Republished, Row, RowSum


def summary_columns(items: tuple[Republished, ...], rated: tuple[str, ...]) -> tuple[Indicator, ...]:
    """``number``, ``rate`` and ``percent`` of a national summary; the rate applies to the rows whose
    ``category_type`` is in ``rated``, the percentage to rows republishing a percentage."""
    with_percent = [i.values["category_type"] for i in items if i.percent_of]
    return (
        Indicator(
            "number", "Number", "count", "The England figure of the row's statistic (see its data set)."
        ),
        Indicator(
            "rate",
            "Rate per 10,000 children aged under 18 years",
            "rate",
            "The row's number per 10,000 children aged 0 to 17.",
            numerator="number",
            applies=pl.col("category_type").is_in(rated),
        ),
        Indicator(
            "percent",
            "Percentage",
            "percent",
            "The row's number as a percentage of the total named in the row (referrals, children referred, "
            "children in need at 31 March, plans starting).",
            numerator="number",
            applies=pl.col("category_type").is_in(with_percent),
        ),
    )


def summary_filters(items: tuple[Republished, ...]) -> tuple[Filter, Filter]:
    categories = tuple(dict.fromkeys(i.values["category"] for i in items))
    types = tuple(i.values["category_type"] for i in items)
    return (
        Filter("category", "Category", categories, hint="Filter by category"),
        Filter("category_type", "Measure", types, group="category", hint="Filter by measure"),
    )


def _item(category: str, category_type: str, source: str, column: str, percent_of: str | None = None):
    return Republished({"category": category, "category_type": category_type}, source, column, percent_of)


_CIN, _REF, _ASS = "Children in Need", "Referrals", "Assessments"
_A1_ITEMS = (
    _item(_CIN, "Episodes of need at any point in the year", "B1", "Anypoint_episodes"),
    _item(_CIN, "Children in Need at any point during the year", "B1", "Anypoint_child"),
    _item(_CIN, "Episodes of need starting in the year", "B1", "Started_episodes"),
    _item(_CIN, "Children starting an episode of need in the year", "B1", "Started_child"),
    _item(_CIN, "Episodes of need ending in the year", "B1", "Ended_episodes"),
    _item(_CIN, "Children ending an episode of need in the year", "B1", "Ended_child"),
    _item(_CIN, "Children in Need at 31 March", "B1", "At31_episodes"),
    _item(
        _CIN,
        "Children awaiting assessment or assessment not required at 31 March",
        "B1",
        "Awaiting_assessment",
        "At31_episodes",
    ),
    _item(_REF, "Referrals in the year", "C1", "Referrals"),
    _item(_REF, "Re-referrals within 12 months of a previous referral", "C1", "Re_referrals", "Referrals"),
    _item(_REF, "Referral - No Further Action", "C1", "No_Further_Action", "Referrals"),
    _item(_REF, "Referral - Assessed as not in Need", "C1", "Not_in_Need", "Referrals"),
    _item(_REF, "Children referred in the year", "C1", "Referrals_child"),
    _item(
        _REF,
        "Children re-referred within 12 months of a previous referral",
        "C1",
        "Re_referrals_child",
        "Referrals_child",
    ),
    _item(_ASS, "Assessments completed in the year", "C2", "Assessments_completed"),
)
_A1_RATED = tuple(
    i.values["category_type"]
    for i in _A1_ITEMS
    if i.column not in ("Re_referrals", "No_Further_Action", "Not_in_Need", "Re_referrals_child")
)
A1 = DataSet(
    code="A1",
    source=cite("Republishes the England figures of B1, C1 and C2", SOURCE_EPISODES, SOURCE_REFERRALS),
    stem="a1_cin_referrals_assessments_2013_to_2020",
    title="National time series of children in need, referrals and assessments, 2013 to 2020",
    description=(
        "Children in need and episodes of need, referrals and assessments completed in England, with rates "
        "and percentages, as a national time series."
    ),
    geography="national",
    first_year=FIRST,
    last_year=LAST,
    indicators=summary_columns(_A1_ITEMS, _A1_RATED),
    filters=summary_filters(_A1_ITEMS),
    summary=_A1_ITEMS,
    footnotes=(CIN_DEFINITION, EPISODE_NOTE, REFERRAL_DEFINITION, REREFERRAL_NOTE, RATE_NOTE),
    provenance=(
        "Structure (category / category_type, number, percent, rate) from the 2021 release's A1 metadata; "
        "each row republishes the England figure of B1, C1 or C2, so its definition is that column's."
    ),
    columns_evidence="later release",
)

_S47, _ICPC, _CPP = "Section 47", "ICPC", "CPP"
_A2_ITEMS = (
    _item(_S47, "Section 47s in the year", "C4", "Section47"),
    _item(_S47, "Children subject to a Section 47 in the year", "C4", "Section47_child"),
    _item(_ICPC, "ICPCs in the year", "C4", "ICPC"),
    _item(_ICPC, "Children subject to an ICPC in the year", "C4", "ICPC_child"),
    _item(_CPP, "CPPs starting in the year", "D1", "CPP_start"),
    _item(_CPP, "Children who became the subject of a CPP in the year", "D1", "CPP_child_start"),
    _item(
        _CPP,
        "CPPs starting in the year which were a second or subsequent plan",
        "D3",
        "CPP_subsequent",
        "CPP_start",
    ),
    _item(_CPP, "CPPs ending in the year", "D1", "CPP_end"),
    _item(_CPP, "CPP at 31 March", "D1", "CPP_At31"),
)
A2 = DataSet(
    code="A2",
    source=cite("Republishes the England figures of C4, D1 and D3", SOURCE_S47, SOURCE_CPP),
    stem="a2_s47_icpc_cpp_2013_to_2020",
    title="Section 47s, initial child protection conferences and child protection plans, 2013 to 2020",
    description=(
        "Section 47 enquiries and initial child protection conferences carried out by children's social care, "
        "and child protection plans, in England, as a national time series."
    ),
    geography="national",
    first_year=FIRST,
    last_year=LAST,
    indicators=summary_columns(
        _A2_ITEMS, tuple(i.values["category_type"] for i in _A2_ITEMS if not i.percent_of)
    ),
    filters=summary_filters(_A2_ITEMS),
    summary=_A2_ITEMS,
    footnotes=(S47_DEFINITION, CPP_DEFINITION, RATE_NOTE),
    provenance=(
        "2020 catalogue page: category / category_type with number, rate and percent; the five items shown "
        "there confirmed, the plan starting/ending items inferred. Each row republishes C4, D1 or D3."
    ),
    columns_evidence="2020 release",
)

_a3_filters, _a3_rows, _a3_sums = characteristic_rows()
_need, _need_sum = need_bands()
A3 = DataSet(
    code="A3",
    source=cite(SOURCE_EPISODES, SOURCE_CHARACTERISTICS, CENSUS_GUIDE + " (PrimaryNeedCode N0 to N9)"),
    stem="a3_cin_primary_need_by_age_gender_2018_to_2020",
    title="Children in need at 31 March by gender, age and primary need, 2018 to 2020",
    description="Children in need at 31 March in England by gender, age and primary need at assessment.",
    geography="national",
    first_year=2018,
    last_year=LAST,
    category="Children in Need at 31 March",
    filters=_a3_filters,
    rows=_a3_rows,
    row_sums=_a3_sums,
    indicators=(AT31, *_need),
    column_sums=(_need_sum,),
    footnotes=(CIN_DEFINITION, CHARACTERISTICS_NOTE),
    provenance=(
        "No 2020 column list found; layout (characteristic_type / characteristic rows) as in the 2020 A4 and "
        "A5 files, primary need columns as in B3."
    ),
)

_a4_filters, _a4_rows, _a4_sums = characteristic_rows()
_ETHNIC_NAMES = {
    "White": "Ethnicity_White",
    "Mixed": "Ethnicity_Mixed",
    "Asian or Asian British": "Ethnicity_Asian_or_Asian_British",
    "Black or Black British": "Ethnicity_Black_or_Black_British",
    "Other ethnic group": "Ethnicity_Other",
}
_ethnic = tuple(
    count(
        name,
        f"Children in need at 31 March: {group}",
        "episodes",
        col("open_at_31_march") & (col("ethnic_group") == group),
        f"Children in need at 31 March whose ethnic group is {group}.",
        measure=f"At31_ethnic_{group}",
        grouping="Ethnicity",
    )
    for group, name in _ETHNIC_NAMES.items()
)
_known = count(
    "Ethnicity_Known",
    "Children in need at 31 March: ethnicity known",
    "episodes",
    col("open_at_31_march") & (col("ethnic_group") != ETHNICITY_NOT_KNOWN),
    "Children in need at 31 March with a known ethnic group.",
    measure="At31_ethnic_known",
    grouping="Ethnicity",
)
_not_known = count(
    "Ethnicity_Not_known",
    "Children in need at 31 March: ethnicity not known",
    "episodes",
    col("open_at_31_march") & (col("ethnic_group") == ETHNICITY_NOT_KNOWN),
    "Children in need at 31 March whose ethnicity was refused or not yet obtained.",
    measure=f"At31_ethnic_{ETHNICITY_NOT_KNOWN}",
    grouping="Ethnicity",
)
_cin_at31 = same(AT31, "CIN_At31", "Children in Need at 31st March")
A4 = DataSet(
    code="A4",
    source=cite(SOURCE_EPISODES, SOURCE_CHARACTERISTICS),
    stem="a4_cin_by_ethnicity_age_gender_2018_to_2020",
    title="Children in need at 31 March by ethnicity, age and gender, 2018 to 2020",
    description="Children in need at 31 March in England by gender, age (at 31 March) and ethnic group.",
    geography="national",
    first_year=2018,
    last_year=LAST,
    category="Children in Need at 31 March",
    filters=_a4_filters,
    rows=_a4_rows,
    row_sums=_a4_sums,
    indicators=(_cin_at31, _known, *_ethnic, _not_known),
    column_sums=(
        ColumnSum(_cin_at31.name, (_known.name, _not_known.name)),
        ColumnSum(_known.name, tuple(i.name for i in _ethnic)),
    ),
    footnotes=(CIN_DEFINITION, CHARACTERISTICS_NOTE, ETHNICITY_NOTE),
    provenance=(
        "2020 catalogue page: CIN_At31, Ethnicity_Asian_or_Asian_British and Ethnicity_Black_or_Black_British "
        "confirmed; the other ethnic group names inferred. Ethnicity_Not_known is added so that the columns "
        "add up to CIN_At31 for disclosure control. The 2020 names put ethnic groups in indicator names, "
        "which today's EES screener rejects (harmonised ethnicity variables); they are kept to match 2020."
    ),
    columns_evidence="2020 release",
    legacy_names=(_known.name, *(i.name for i in _ethnic), _not_known.name),
)

_a5_filters, _a5_rows, _a5_sums = characteristic_rows(ethnicity=True)
_a5_categories, _a5_sum = category_columns(
    CPP_AT31,
    "initial",
    "On a plan at 31 March",
    names=(
        "Neglect_Initial",
        "Physical_Abuse_Initial",
        "Sexual_Abuse_Initial",
        "Emotional_Abuse_Initial",
        "Multiple_Initial",
    ),
    with_percent=False,
)
A5 = DataSet(
    code="A5",
    source=cite(SOURCE_CPP, SOURCE_CHARACTERISTICS, DATA_GUIDANCE + " (A5/A6: initial category, Multiple)"),
    stem="a5_cpp_initial_category_by_age_gender_ethnicity_2018_to_2020",
    title="Children subject of a child protection plan at 31 March by initial category of abuse, gender, age "
    "and ethnicity, 2018 to 2020",
    description=(
        "Children subject of a child protection plan at 31 March in England by initial category of abuse, "
        "gender, age and ethnicity."
    ),
    geography="national",
    first_year=2018,
    last_year=LAST,
    category="Initial category of abuse",
    filters=_a5_filters,
    rows=_a5_rows,
    row_sums=_a5_sums,
    indicators=(CPP_AT31, *_a5_categories),
    column_sums=(_a5_sum,),
    footnotes=(CPP_DEFINITION, CATEGORY_NOTE, CHARACTERISTICS_NOTE, ETHNICITY_NOTE),
    provenance="2020 catalogue page: full column list (CPP_At31 and five *_Initial columns) confirmed.",
    columns_evidence="2020 release",
)

_a6_categories, _a6_sum = category_columns(
    CPP_AT31,
    "initial",
    "On a plan at 31 March",
    names=(
        "Neglect_Initial",
        "Physical_abuse_Initial",
        "Sexual_abuse_Initial",
        "Emotional_abuse_Initial",
        "Multiple_Initial",
    ),
    with_percent=False,
)
A6 = DataSet(
    code="A6",
    source=cite(
        SOURCE_CPP, DATA_GUIDANCE + " (A6: initial category as assessed when the plan started; Multiple)"
    ),
    stem="a6_cpp_initial_category_2013_to_2020",
    title="Children subject of a child protection plan at 31 March by initial category of abuse, 2013 to 2020",
    description="Children subject of a child protection plan at 31 March in England by initial category of abuse.",
    geography="national",
    first_year=FIRST,
    last_year=LAST,
    category="Initial category of abuse",
    indicators=(CPP_AT31, *_a6_categories),
    column_sums=(_a6_sum,),
    footnotes=(CPP_DEFINITION, CATEGORY_NOTE),
    provenance="2020 catalogue page: full column list confirmed.",
    columns_evidence="2020 release",
)

_a7_filters, _a7_char_rows, _a7_char_sums = characteristic_rows()
_NOT_RECORDED = "Not recorded"
_MINOR_ITEMS = ("Total", *ETHNIC_MINOR.values(), _NOT_RECORDED)


def _minor(item: str) -> pl.Expr:
    if item == "Total":
        return pl.lit(True)
    return pl.col("ethnic_minor") == (ETHNICITY_NOT_KNOWN if item == _NOT_RECORDED else item)


_ETHNICITY_MINOR = Filter(
    "ethnicity_minor", "Ethnicity", _MINOR_ITEMS, total="Total", hint="Filter by ethnicity (minor group)"
)
A7 = DataSet(
    code="A7",
    source=cite(SOURCE_EPISODES, SOURCE_CHARACTERISTICS),
    stem="a7_cin_by_age_gender_ethnicity_2015_to_2020",
    title="Children in need at 31 March by gender, age and detailed ethnicity, 2015 to 2020",
    description=(
        "Children in need at 31 March in England by gender, age and detailed ethnic group (the 18 census "
        "ethnic groups, refused and not yet obtained)."
    ),
    geography="national",
    first_year=2015,
    last_year=LAST,
    category="Children in Need at 31 March",
    filters=(*_a7_filters, _ETHNICITY_MINOR),
    rows=tuple(
        Row(values={**row.values, _ETHNICITY_MINOR.name: item}, where=row.where & _minor(item))
        for row in _a7_char_rows
        for item in _MINOR_ITEMS
    ),
    row_sums=(
        *_a7_char_sums,
        RowSum(
            total={_ETHNICITY_MINOR.name: "Total"},
            parts=tuple({_ETHNICITY_MINOR.name: item} for item in _MINOR_ITEMS[1:]),
        ),
    ),
    indicators=(_cin_at31,),
    footnotes=(
        CIN_DEFINITION,
        CHARACTERISTICS_NOTE,
        "Ethnicity is the census code: the 18 ethnic groups, refused, information not yet obtained; "
        "'Not recorded' is a missing or invalid code.",
    ),
    provenance=(
        "Not confirmed for 2020 (the 2021 release has an A7 for 2015 to 2021); inferred as the detailed "
        "ethnicity companion of A4, in tidy form with the harmonised ethnicity_minor filter."
    ),
)

assert set(_ETHNIC_NAMES) == set(ETHNIC_GROUPS)

DATASETS = (A1, A2, A3, A4, A5, A6, A7)
