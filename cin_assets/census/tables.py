"""The child-level tables a CIN census return is read into: names, columns and types.

This module is the contract between the XML reader, the synthetic generator's tests, the validation rules
and the measures. Field columns keep the census element names (so a reader can look them up in the DfE
specification); key columns are snake_case and are not in the XML:

- ``reporting_year``: the collection year the return belongs to (Header ``Year``; 2020 = 2019-20);
- ``la_code``: the submitting LA's 3-digit DfE code (Header ``LEA``);
- ``episode_id``, ``assessment_id``, ``s47_id``, ``cpp_id``, ``review_id``: 1-based positions of the element
  inside its parent (they are unique only together with ``la_code``, ``LAchildID`` and the parent ids);
  episodes are numbered per LAchildID across the return, so two records with one LAchildID (an error, 8510)
  keep all their episodes apart and the episode rules (8820 overlaps) see them together;
- ``line``: the line of the element's start tag in the source file, so errors can point at it.

Dates are ``pl.Date``; a date that is not ISO ``YYYY-MM-DD`` or not a real day is null in the table and
reported in ``issues``, as is a value with an element inside it (``AB<x/>CD``).
Booleans accept ``true``/``false``/``1``/``0`` (any case); anything else is null and reported.
"""

from __future__ import annotations

import polars as pl
from polars._typing import PolarsDataType

KEY = {"reporting_year": pl.Int32, "la_code": pl.String, "LAchildID": pl.String}

SCHEMAS: dict[str, dict[str, PolarsDataType]] = {
    "headers": {
        "source_file": pl.String,
        "reporting_year": pl.Int32,
        "la_code": pl.String,
        "line": pl.Int32,  # of the <Header> start tag
        "Collection": pl.String,
        "Year": pl.Int32,
        "ReferenceDate": pl.Date,
        "SourceLevel": pl.String,
        "LEA": pl.String,
        "SoftwareCode": pl.String,
        "Release": pl.String,
        "SerialNo": pl.String,
        "DateTime": pl.String,
        "has_content_block": pl.Boolean,
        "children": pl.Int64,
    },
    "children": {
        **KEY,
        "line": pl.Int32,
        "UPN": pl.String,
        "FormerUPN": pl.String,
        "UPNunknown": pl.String,
        "PersonBirthDate": pl.Date,
        "ExpectedPersonBirthDate": pl.Date,
        "GenderCurrent": pl.String,  # 0/1/2/9, up to 2023-24
        "Sex": pl.String,  # M/F/U, from 2024-25
        "PersonDeathDate": pl.Date,
        "Ethnicity": pl.String,
    },
    "disabilities": {**KEY, "line": pl.Int32, "Disability": pl.String},
    "episodes": {
        **KEY,
        "episode_id": pl.Int32,
        "line": pl.Int32,
        "CINreferralDate": pl.Date,
        "ReferralSource": pl.String,
        "PrimaryNeedCode": pl.String,
        "CINclosureDate": pl.Date,
        "ReasonForClosure": pl.String,
        "DateOfInitialCPC": pl.Date,
        "ReferralNFA": pl.Boolean,
    },
    "assessments": {
        **KEY,
        "episode_id": pl.Int32,
        "assessment_id": pl.Int32,
        "line": pl.Int32,
        "AssessmentActualStartDate": pl.Date,
        "AssessmentInternalReviewDate": pl.Date,
        "AssessmentAuthorisationDate": pl.Date,
    },
    "assessment_factors": {
        **KEY,
        "episode_id": pl.Int32,
        "assessment_id": pl.Int32,
        "line": pl.Int32,
        "AssessmentFactors": pl.String,
    },
    # CINPlanDates, from 2021-22 (reporting year 2022)
    "cin_plans": {
        **KEY,
        "episode_id": pl.Int32,
        "plan_id": pl.Int32,
        "line": pl.Int32,
        "CINPlanStartDate": pl.Date,
        "CINPlanEndDate": pl.Date,
    },
    "section47": {
        **KEY,
        "episode_id": pl.Int32,
        "s47_id": pl.Int32,
        "line": pl.Int32,
        "S47ActualStartDate": pl.Date,
        "InitialCPCtarget": pl.Date,
        "DateOfInitialCPC": pl.Date,
        "ICPCnotRequired": pl.Boolean,
    },
    "cpps": {
        **KEY,
        "episode_id": pl.Int32,
        "cpp_id": pl.Int32,
        "line": pl.Int32,
        "CPPstartDate": pl.Date,
        "CPPendDate": pl.Date,
        "InitialCategoryOfAbuse": pl.String,
        "LatestCategoryOfAbuse": pl.String,
        "NumberOfPreviousCPP": pl.Int32,
        "has_reviews_block": pl.Boolean,
    },
    "cpp_reviews": {
        **KEY,
        "episode_id": pl.Int32,
        "cpp_id": pl.Int32,
        "review_id": pl.Int32,
        "line": pl.Int32,
        "CPPreviewDate": pl.Date,
    },
    # Problems found while reading (not the DfE validation rules): unreadable files, unparseable values,
    # header mismatches. Never holds child characteristics, only where the problem is.
    "issues": {
        "source_file": pl.String,
        "reporting_year": pl.Int32,
        "la_code": pl.String,
        "LAchildID": pl.String,
        "line": pl.Int32,
        "column": pl.Int32,
        "element": pl.String,
        "severity": pl.String,  # "error" (file or value unusable) or "warning"
        "code": pl.String,  # short machine code, e.g. "xml_syntax", "bad_value", "header_year"
        "value": pl.String,  # the offending text, where there is one (cut to 100 characters)
        "message": pl.String,
    },
}

TABLES: tuple[str, ...] = tuple(SCHEMAS)

# Elements that belong to some collections only: element -> (first, last) reporting year it may appear in
# (None: open-ended). 2020-21 is the last year with the header Content block, 2021-22 the first with CIN
# plans, 2024-25 replaced GenderCurrent with Sex; PreProceedingsandFGDM is a 2026-27 addition.
LAST_CONTENT_YEAR, CIN_PLANS_FROM, SEX_FROM, PRE_PROCEEDINGS_FROM = 2021, 2022, 2025, 2027
ELEMENT_YEARS: dict[str, tuple[int | None, int | None]] = {
    "Content": (None, LAST_CONTENT_YEAR),
    "GenderCurrent": (None, SEX_FROM - 1),
    "Sex": (SEX_FROM, None),
    "CINPlanDates": (CIN_PLANS_FROM, None),
    "PreProceedingsandFGDM": (PRE_PROCEEDINGS_FROM, None),
}


def element_in_year(element: str, year: int) -> bool:
    """True when ``element`` belongs to the census message of reporting ``year``."""
    first, last = ELEMENT_YEARS.get(element, (None, None))
    return (first is None or year >= first) and (last is None or year <= last)


def collection(year: int) -> str:
    """The collection name of reporting ``year``: 2020 -> "2019-20"."""
    return f"{year - 1}-{year % 100:02d}"


CHILD_TABLES: tuple[str, ...] = tuple(t for t in TABLES if t not in {"headers", "issues"})


def empty(table: str) -> pl.DataFrame:
    """An empty frame with the table's schema."""
    return pl.DataFrame(schema=SCHEMAS[table])


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``frame`` to the table's schema, adding missing columns as nulls."""
    schema = SCHEMAS[table]
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )
