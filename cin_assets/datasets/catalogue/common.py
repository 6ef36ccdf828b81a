"""Building blocks shared by the 28 descriptions: indicator constructors, shared measures, footnotes.

A measure published in several files (children in need at 31 March in B1, B2, B3, B4, A3, A4 ...) is
one :class:`Indicator` object defined here, so its definition and counting rule are written once.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cin_assets.census import calendar
from cin_assets.census.codes import AGE_GROUPS, ETHNIC_GROUPS, ETHNICITY_NOT_KNOWN, UNBORN
from cin_assets.datasets.description import ColumnSum, Count, Filter, Indicator, Row, RowSum, Statistic

FIRST, LAST = calendar.FIRST_YEAR, calendar.LAST_YEAR  # the series run to the last supported year


def col(name: str) -> pl.Expr:
    return pl.col(name)


def count(
    name: str,
    label: str,
    table: str,
    where: pl.Expr,
    definition: str,
    *,
    children: bool = False,
    available: pl.Expr | None = None,
    measure: str | None = None,
    grouping: str = "",
    first_year: int | None = None,
    source: str = "",
) -> Indicator:
    """A count indicator measured by a :class:`Count` rule over unit table ``table``; ``source`` cites the
    DfE text its definition follows (empty: the data set's source)."""
    return Indicator(
        name=name,
        label=label,
        unit="count",
        definition=definition,
        measure=measure,
        first_year=first_year,
        rule=Count(table=table, where=where, children=children, available=available),
        grouping=grouping,
        source=source,
    )


def same(ind: Indicator, name: str, label: str | None = None) -> Indicator:
    """The same statistic as ``ind`` under another column name (linked by measure)."""
    return Indicator(
        name=name,
        label=label or ind.label,
        unit=ind.unit,
        definition=ind.definition,
        measure=ind.measure_id,
        first_year=ind.first_year,
        rule=ind.rule,
        grouping=ind.grouping,
        source=ind.source,
    )


def percent(
    num: Indicator, den: Indicator, *, name: str | None = None, label: str | None = None, grouping: str = ""
) -> Indicator:
    """``num`` as a percentage of ``den`` (same row); not applicable (z) where ``den`` is 0."""
    return Indicator(
        name=name or f"{num.name}_percent",
        label=label or f"{num.label} (%)",
        unit="percent",
        definition=f"{num.label} as a percentage of {_lower(den.label)}.",
        numerator=num.name,
        denominator=den.name,
        applies=(pl.col(den.name) > 0).fill_null(True),
        grouping=grouping or num.grouping,
        source=num.source,
    )


def rate(num: Indicator, *, name: str | None = None, label: str | None = None) -> Indicator:
    """``num`` per 10,000 children aged 0 to 17."""
    return Indicator(
        name=name or f"{num.name}_rate",
        label=label or f"{num.label} (rate per 10,000)",
        unit="rate",
        definition=f"{num.label} per 10,000 children aged 0 to 17 ({POPULATION_NOTE}).",
        numerator=num.name,
        grouping=num.grouping,
        source=num.source,
    )


def days(name: str, label: str, of: Indicator, value: str, quantile: float, definition: str) -> Indicator:
    """A working-days statistic of the items counted by ``of`` (computed from the unit rows)."""
    rule = of.rule
    assert isinstance(rule, Count)
    return Indicator(
        name=name,
        label=label,
        unit="days",
        definition=definition,
        of=of.name,
        rule=Statistic(table=rule.table, where=rule.where, value=pl.col(value), quantile=quantile),
        applies=(pl.col(of.name) > 0).fill_null(True),
        grouping=of.grouping,
    )


def banded(
    total: Indicator,
    band_column: str,
    bands: Sequence[tuple[str, str, str]],
    *,
    measure_prefix: str,
    with_percent: bool = True,
) -> tuple[tuple[Indicator, ...], ColumnSum]:
    """Count (and percentage) columns splitting ``total`` by the values of unit column ``band_column``.

    ``bands``: (column name, label, band value). The parts sum exactly to the total (ColumnSum)."""
    rule = total.rule
    assert isinstance(rule, Count)
    counts = [
        count(
            name,
            label,
            rule.table,
            rule.where & (pl.col(band_column) == value),
            f"{total.label}: {_lower(label)}.",
            children=rule.children,
            measure=f"{measure_prefix}_{value}",
            grouping=total.grouping,
            source=total.source,
        )
        for name, label, value in bands
    ]
    out: list[Indicator] = []
    for c in counts:
        out.append(c)
        if with_percent:
            out.append(percent(c, total))
    return tuple(out), ColumnSum(total=total.name, parts=tuple(c.name for c in counts))


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


# --- footnotes -------------------------------------------------------------------------------------

POPULATION_NOTE = (
    "ONS mid-year population estimate of children aged 0 to 17 for the mid-year before the end of the "
    "reporting year: up to 2020 on the estimates' original basis as published before the 2021 Census "
    "rebasing, from 2021 the rebased estimates published with the 2025 release (no estimate for 2026 yet, "
    "so 2026 rates are not available)"
)
CIN_DEFINITION = (
    "A child in need is defined under the Children Act 1989 as a child who is unlikely to reach or maintain "
    "a satisfactory level of health or development, or whose health or development will be significantly "
    "impaired, without the provision of children's social care services, or a child who is disabled. "
    "Children in need include unborn children and young people aged 18 and over still receiving services."
)
EPISODE_NOTE = (
    "A child can have more than one episode of need in a year, but episodes should not overlap. Referrals "
    "that resulted in no further action, and referrals where the child was assessed as not in need (case "
    "closed after assessment, RC8, and from 2023 RC9, referred to early help, after an assessment in the "
    "year) are not episodes of need."
)
REFERRAL_DEFINITION = (
    "A referral is a request for services to be provided by children's social care, for a child whose "
    "case is not already open. Every referral in the year is counted: a child referred more than once is "
    "counted each time."
)
REREFERRAL_NOTE = (
    "A re-referral is a referral within 12 months of the same child's previous referral; the look-back "
    "reaches into the previous year's census. North and West Northamptonshire in 2022 and Cumberland and "
    "Westmorland and Furness in 2024 look back on the previous year's return of the authority they replaced "
    "(Northamptonshire, Cumbria), as DfE did. Re-referrals are not available where the local authority has "
    "no census return for the previous year: for every authority in 2013 (no 2012 census in this series) "
    "and for Bournemouth, Christchurch and Poole and for Dorset in 2020 (created in April 2019; DfE did not "
    "look back on their predecessors' returns). England and regional re-referral counts then include only "
    "the authorities whose previous return was looked back on, while their referrals include every "
    "authority, so their re-referral percentages understate, as in DfE's releases (the data guidance names "
    "the authorities)."
)
RATE_NOTE = f"Rates are per 10,000 children aged under 18: the {POPULATION_NOTE}."
S47_DEFINITION = (
    "A section 47 enquiry is carried out if the local authority has reasonable cause to suspect that a "
    "child is suffering, or is likely to suffer, significant harm. If concerns are substantiated and the "
    "child is judged to be at continuing risk of harm, an initial child protection conference (ICPC) "
    "should be held within 15 working days."
)
CPP_DEFINITION = (
    "A child becomes the subject of a child protection plan if they are judged to be at continuing risk of "
    "significant harm at an initial child protection conference. A plan should be reviewed within its "
    "first 3 months and then at intervals of no more than 6 months."
)
WORKING_DAYS_NOTE = (
    "Working days are Monday to Friday excluding England and Wales bank holidays, counted from the day "
    "after the first date to the second (a conference on the working day after the enquiry started is 1 "
    "working day later)."
)
DURATION_NOTE = (
    "Durations are in calendar months and years between the two dates (e.g. 3 months or less: the later "
    "date is no more than 3 calendar months after the earlier one)."
)
ETHNICITY_NOTE = (
    "White: White British, White Irish, Traveller of Irish heritage, any other White background, Gypsy/Roma. "
    "Mixed: White and Black Caribbean, White and Black African, White and Asian, any other mixed background. "
    "Asian or Asian British: Indian, Pakistani, Bangladeshi, any other Asian background. Black or Black "
    "British: Black Caribbean, Black African, any other Black background. Other ethnic group: Chinese, any "
    "other ethnic group. Not known: refused or information not yet obtained."
)
CHARACTERISTICS_NOTE = (
    "Age is in whole years at 31 March. Unborn children (an expected date of birth only) are shown "
    "separately and not in the gender or age groups."
)
CATEGORY_NOTE = (
    "The initial category of abuse is the category recorded when the plan started; the latest category is "
    "the one recorded most recently (at the end of the plan, or at 31 March for an open plan). Multiple: "
    "more than one main category; these children are counted under Multiple only."
)

# --- DfE texts the definitions follow (each indicator's or data set's ``source``) ----------------------

METHODOLOGY_2019 = (
    "DfE, Characteristics of children in need in England: 2018 to 2019, methodology document (October "
    "2019), section 4 'Data processing'"
)
METHODOLOGY = "DfE, Characteristics of children in need methodology (EES methodology page, 2020 onwards)"
CENSUS_GUIDE = "DfE, Children in need census 2019 to 2020: guide for local authorities"
DATA_GUIDANCE = "DfE, Characteristics of children in need 2020 release: data guidance and data-set footnotes"


def cite(*texts: str, note: str = "") -> str:
    """A ``source`` value: the DfE texts followed, then any note (what the texts leave open)."""
    return "; ".join(texts) + (f". {note}" if note else "")


SOURCE_EPISODES = cite(
    METHODOLOGY_2019 + ": 'Defining counts of children in need'", METHODOLOGY, DATA_GUIDANCE
)
SOURCE_REFERRALS = cite(METHODOLOGY_2019 + ": 'Number of referrals', 'Number of children with referrals'")
SOURCE_S47 = cite(
    METHODOLOGY_2019 + ": 'Section 47 enquiries and initial child protection conferences'", CENSUS_GUIDE
)
SOURCE_CPP = cite(
    METHODOLOGY_2019 + ": 'Child protection plans and children who were the subject of a child protection "
    "plan'",
    CENSUS_GUIDE,
)
SOURCE_CHARACTERISTICS = cite(
    CENSUS_GUIDE + " (child identifiers and characteristics: expected date of birth, gender, ethnicity)",
    DATA_GUIDANCE,
)

# --- shared filters and rows (A-series national tables by child characteristics) -------------------

CHARACTERISTIC_TYPE = "characteristic_type"
CHARACTERISTIC = "characteristic"


UNKNOWN_GENDER = "Unknown or indeterminate gender"


def characteristic_rows(
    *, ethnicity: bool = False
) -> tuple[tuple[Filter, Filter], tuple[Row, ...], tuple[RowSum, ...]]:
    """The characteristic rows of A3/A4/A5/A7: gender (with the total), unborn, age groups and, for A5,
    ethnic groups. Every breakdown adds up to the Total row (unborn children complete gender and age).
    The unknown-gender item has one label in every file (the 2020 files spelt it three ways)."""
    genders = (("Female", "Female"), ("Male", "Male"), (UNKNOWN_GENDER, "Unknown or indeterminate"))
    types = {"Total": "Gender"}
    rows = [Row(values={CHARACTERISTIC_TYPE: "Gender", CHARACTERISTIC: "Total"}, where=pl.lit(True))]
    for item, group in genders:
        types[item] = "Gender"
        rows.append(
            Row(
                values={CHARACTERISTIC_TYPE: "Gender", CHARACTERISTIC: item},
                where=pl.col("gender_group") == group,
            )
        )
    types[UNBORN] = UNBORN
    rows.append(Row(values={CHARACTERISTIC_TYPE: UNBORN, CHARACTERISTIC: UNBORN}, where=pl.col("unborn")))
    for age in AGE_GROUPS:
        types[age] = "Age"
        rows.append(
            Row(values={CHARACTERISTIC_TYPE: "Age", CHARACTERISTIC: age}, where=pl.col("age_group") == age)
        )
    groups = (*ETHNIC_GROUPS, ETHNICITY_NOT_KNOWN) if ethnicity else ()
    for group in groups:
        types[group] = "Ethnicity"
        rows.append(
            Row(
                values={CHARACTERISTIC_TYPE: "Ethnicity", CHARACTERISTIC: group},
                where=pl.col("ethnic_group") == group,
            )
        )
    kinds = tuple(dict.fromkeys(types.values()))
    filters = (
        Filter(CHARACTERISTIC_TYPE, "Characteristic type", kinds, hint="Filter by type of characteristic"),
        Filter(
            CHARACTERISTIC,
            "Characteristic",
            tuple(types),
            total="Total",
            group=CHARACTERISTIC_TYPE,
            hint="Filter by characteristic of the child",
        ),
    )

    def key(item: str) -> dict[str, str]:
        # both columns, so the sum is read across characteristic types (the type follows from the item)
        return {CHARACTERISTIC_TYPE: types[item], CHARACTERISTIC: item}

    def total_of(items: Sequence[str]) -> RowSum:
        return RowSum(total=key("Total"), parts=tuple(key(i) for i in items))

    sums = [total_of([g for g, _ in genders] + [UNBORN]), total_of([UNBORN, *AGE_GROUPS])]
    if ethnicity:
        sums.append(total_of(groups))
    return filters, tuple(rows), tuple(sums)


# --- shared measures -------------------------------------------------------------------------------

CIN = "Children in need"
AT31 = count(
    "At31_episodes",
    "Children in need at 31 March",
    "episodes",
    col("open_at_31_march"),
    "Episodes of need open at 31 March: referred on or before 31 March, not closed on or before it. A child "
    "has at most one open episode, so this is the number of children in need at 31 March.",
    grouping=CIN,
    source=SOURCE_EPISODES,
)
REFERRALS = count(
    "Referrals",
    "Referrals in the year",
    "episodes",
    col("referral_in_year"),
    "Referrals (CINdetails) with a referral date in the year, 1 April to 31 March; every referral is "
    "counted, including those that resulted in no further action.",
    grouping="Referrals",
    source=SOURCE_REFERRALS,
)
CPP_AT31 = count(
    "CPP_At31",
    "Children subject of a child protection plan at 31 March",
    "cpps",
    col("cpp_open_at_31_march"),
    "Child protection plans open at 31 March: started on or before 31 March with no end date or one after "
    "it. A child has at most one open plan, so this is the number of children on a plan at 31 March.",
    grouping="Child protection plans",
    source=SOURCE_CPP,
)
CPP_START = count(
    "CPP_start",
    "Child protection plans starting in the year",
    "cpps",
    col("cpp_started"),
    "Child protection plans with a start date in the year.",
    grouping="Child protection plans",
    source=SOURCE_CPP,
)
CPP_END = count(
    "CPP_end",
    "Child protection plans ending in the year",
    "cpps",
    col("cpp_ended"),
    "Child protection plans with an end date in the year.",
    grouping="Child protection plans",
    source=SOURCE_CPP,
)
ENDED_EPISODES = count(
    "Ended_episodes",
    "Episodes of need ending in the year",
    "episodes",
    col("ended_in_year"),
    "Episodes of need with a closure date in the year.",
    grouping=CIN,
    source=SOURCE_EPISODES,
)

NEED_CODES = (
    ("N1_Abuse_or_neglect", "Abuse or neglect", "N1"),
    ("N2_Child_disability_or_illness", "Child's disability or illness", "N2"),
    ("N3_Parent_disability_or_illness", "Parental disability or illness", "N3"),
    ("N4_Family_in_acute_stress", "Family in acute stress", "N4"),
    ("N5_Family_dysfunction", "Family dysfunction", "N5"),
    ("N6_Socially_unacceptable_behaviour", "Socially unacceptable behaviour", "N6"),
    ("N7_Low_income", "Low income", "N7"),
    ("N8_Absent_parenting", "Absent parenting", "N8"),
    ("N9_Cases_other_than_CIN", "Cases other than children in need", "N9"),
    ("N0_Not_stated", "Primary need not stated", "N0"),
)


def need_bands() -> tuple[tuple[Indicator, ...], ColumnSum]:
    """Children in need at 31 March by primary need at assessment (missing code counted as N0)."""
    return banded(AT31, "need_code", NEED_CODES, measure_prefix="At31_need")


CATEGORIES = (
    ("Neglect", "NEG"),
    ("Physical_abuse", "PHY"),
    ("Sexual_abuse", "SAB"),
    ("Emotional_abuse", "EMO"),
)
CATEGORY_LABELS = {
    "NEG": "neglect",
    "PHY": "physical abuse",
    "SAB": "sexual abuse",
    "EMO": "emotional abuse",
    "MUL": "multiple categories",
}


def category_columns(
    total: Indicator,
    which: str,
    short: str,
    *,
    names: Sequence[str] | None = None,
    with_percent: bool = True,
) -> tuple[tuple[Indicator, ...], ColumnSum]:
    """Plans in ``total`` (``short``: its label in a few words) by ``which`` ("initial" or "latest")
    category of abuse: the five categories are
    exhaustive (a plan with another or no code counts under Multiple), so they sum to the total."""
    suffix = which.capitalize()
    column = f"{which}_category"
    default = [f"{n}_{suffix}" for n, _ in CATEGORIES] + [f"Multiple_{suffix}"]
    names = list(names or default)
    codes = [c for _, c in CATEGORIES]
    rule = total.rule
    assert isinstance(rule, Count)
    prefix = f"{total.measure_id}_{which}"
    counts = []
    for name, code in zip(names, [*codes, "MUL"], strict=True):
        where = pl.col(column) == code if code != "MUL" else ~pl.col(column).is_in(codes).fill_null(False)
        label = f"{short} - {which} category: {CATEGORY_LABELS[code]}"
        counts.append(
            count(
                name,
                label,
                rule.table,
                rule.where & where,
                f"{total.label} whose {which} category of abuse is {CATEGORY_LABELS[code]}.",
                measure=f"{prefix}_{code}",
                grouping=f"{suffix} category of abuse",
            )
        )
    out: list[Indicator] = []
    for c in counts:
        out.append(c)
        if with_percent:
            out.append(percent(c, total))
    return tuple(out), ColumnSum(total=total.name, parts=tuple(c.name for c in counts))
