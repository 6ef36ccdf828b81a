"""The two supporting files: headline national figures and the ONS populations used for rates."""

from __future__ import annotations

import polars as pl

from cin_assets.datasets.catalogue.common import (
    CIN_DEFINITION,
    CPP_DEFINITION,
    LAST,
    METHODOLOGY,
    POPULATION_NOTE,
    RATE_NOTE,
    cite,
)
from cin_assets.datasets.description import DataSet, Filter, Indicator, Republished

_HEADLINES = (
    ("Children in need at 31 March", "B1", "At31_episodes", None),
    ("Referrals in the year", "C1", "Referrals", None),
    ("Re-referrals within 12 months of a previous referral", "C1", "Re_referrals", "Referrals"),
    ("Assessments completed in the year", "C2", "Assessments_completed", None),
    (
        "Episodes with domestic abuse involving a parent or carer identified at the end of assessment",
        "C3",
        "Domestic_Abuse_parent",
        "Episodes_with_assessment_factor",
    ),
    ("Section 47 enquiries in the year", "C4", "Section47", None),
    ("Initial child protection conferences in the year", "C4", "ICPC", None),
    ("Child protection plans starting in the year", "D1", "CPP_start", None),
    ("Children subject of a child protection plan at 31 March", "D1", "CPP_At31", None),
)
_ITEMS = tuple(
    Republished({"headline": name}, source, column, percent_of)
    for name, source, column, percent_of in _HEADLINES
)
_RATED = [name for name, _, _, percent_of in _HEADLINES if percent_of is None]
_WITH_PERCENT = [name for name, _, _, percent_of in _HEADLINES if percent_of is not None]

H = DataSet(
    code="H",
    source=cite("Republishes England figures of B1, C1, C2, C3, C4 and D3", METHODOLOGY),
    stem="headline_figures_2020",
    title="Headline figures, 2020",
    description=(
        "The release's headline national figures for the year ending 31 March 2020: children in need, "
        "referrals, assessments, section 47 enquiries, conferences and child protection plans."
    ),
    geography="national",
    first_year=2020,
    last_year=LAST,
    category="Headline figures",
    filters=(
        Filter(
            "headline", "Headline measure", tuple(name for name, *_ in _HEADLINES), hint="Filter by measure"
        ),
    ),
    summary=_ITEMS,
    indicators=(
        Indicator(
            "number", "Number", "count", "The England figure of the headline statistic (see its data set)."
        ),
        Indicator(
            "rate",
            "Rate per 10,000 children aged under 18 years",
            "rate",
            "The headline number per 10,000 children aged 0 to 17.",
            numerator="number",
            applies=pl.col("headline").is_in(_RATED),
        ),
        Indicator(
            "percent",
            "Percentage",
            "percent",
            "Re-referrals as a percentage of referrals; episodes with the factor as a percentage of episodes "
            "with factors identified at the end of assessment.",
            numerator="number",
            applies=pl.col("headline").is_in(_WITH_PERCENT),
        ),
    ),
    footnotes=(CIN_DEFINITION, CPP_DEFINITION, RATE_NOTE),
    provenance=(
        "The 2021 release has a 'Headline Figures' file; no 2020 equivalent was found. Inferred from the 2020 "
        "release page's headline bullets; each row republishes the England figure of another data set."
    ),
)

P = DataSet(
    code="P",
    source=cite(METHODOLOGY + " (rates per 10,000 children aged under 18 from ONS mid-year estimates)"),
    stem="ons_population_0_17_2012_to_2019",
    title="ONS mid-year population estimates of children aged 0 to 17, 2012 to 2019",
    description=(
        "The population denominators of every rate in this release: ONS mid-year estimates of children aged "
        "0 to 17 for England, regions and local authorities, one for each reporting year: the mid-year "
        "before its end (mid-2019 for reporting year 2020)."
    ),
    geography="la",
    first_year=2013,
    last_year=LAST,
    category="ONS mid-year population estimates",
    indicators=(
        Indicator(
            "population_0_17",
            "Population aged 0 to 17",
            "population",
            f"The {POPULATION_NOTE}; the rates of reporting year Y use the estimate for mid-year Y-1.",
        ),
    ),
    time_identifier="Calendar year",
    period_offset=-1,
    footnotes=(
        "These are the estimates on the basis used when the rates were first published, before the 2021 "
        "Census rebasing: each figure is the one that reproduces every published rate of that area and year.",
    ),
    provenance=(
        "The 2021 release has an 'ONS mid-year population estimates' file; no 2020 equivalent was found. "
        "Labelled by the estimate's mid-year (calendar year). The original-basis estimates are not available "
        "as a file; they are back-solved from the rates published in the 2013 to 2020 releases (see "
        "data/reference/README.md)."
    ),
)

DATASETS = (H, P)
