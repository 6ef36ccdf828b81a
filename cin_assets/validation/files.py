"""File-level and value-level checks that sit outside the DfE rule list, in the report's shape.

They turn the reader's ``issues`` (unreadable or hostile files, unparseable values, unknown elements, header
contradictions, duplicate returns) and facts from the ``headers`` table (wrong collection, another year, an
LA code not valid for the year, an empty return) into report rows, plus the schema-level checks no DfE rule
covers: codes outside the code list and required values that are missing. Every check names the file;
nothing here can stop the other LAs being validated.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from polars._typing import PolarsDataType

from cin_assets import reference
from cin_assets.census.tables import ELEMENT_YEARS, collection, element_in_year
from cin_assets.validation.rule import CHILD_KEY, LA_KEY, Context, text

# Required elements whose absence no DfE rule reports (the others have a "missing or invalid" rule).
REQUIRED = {
    "assessments": ("AssessmentActualStartDate",),
    "section47": ("S47ActualStartDate", "ICPCnotRequired"),
}
DATE_COLUMNS = {
    "children": ("PersonBirthDate", "ExpectedPersonBirthDate", "PersonDeathDate"),
    "episodes": ("CINreferralDate", "CINclosureDate", "DateOfInitialCPC"),
    "assessments": (
        "AssessmentActualStartDate",
        "AssessmentInternalReviewDate",
        "AssessmentAuthorisationDate",
    ),
    "section47": ("S47ActualStartDate", "InitialCPCtarget", "DateOfInitialCPC"),
    "cpps": ("CPPstartDate", "CPPendDate"),
    "cpp_reviews": ("CPPreviewDate",),
    "cin_plans": ("CINPlanStartDate", "CINPlanEndDate"),
}
EARLIEST_PLAUSIBLE = dt.date(1900, 1, 1)
# Every check outside the DfE rule list: code -> (type, category, what it reports), for ``--list-rules``.
CHECKS: dict[str, tuple[str, str, str]] = {
    "element_not_in_year": (
        "error",
        "file",
        "An element of another collection year (e.g. Sex before 2024-25, CINPlanDates before 2021-22; the old "
        "header Content block from 2021-22 is a query)",
    ),
    "not_found": ("error", "file", "A path given to cin-validate does not exist"),
    "unreadable": ("error", "file", "The file cannot be read"),
    "empty_file": ("error", "file", "The file is empty"),
    "file_too_large": (
        "error",
        "file",
        "The file is over the size limit for one return (CIN_MAX_RETURN_BYTES)",
    ),
    "dtd_refused": (
        "error",
        "file",
        "The file declares a DTD or entities (refused: entity expansion attacks)",
    ),
    "wrong_root": ("error", "file", "The root element is not <Message>"),
    "no_root": ("error", "file", "No XML element in the file"),
    "xml_syntax": ("error", "file", "Not well-formed XML: nothing in the return is loaded"),
    "misplaced_element": (
        "error",
        "file",
        "A <Child> outside <Message>/<Children>, or a <Header> outside <Message> or repeated: it is not read",
    ),
    "read_failed": ("error", "file", "The reader failed on the file: nothing in it was validated"),
    "no_header": ("error", "file", "The return has no Header: its year and LA are unknown"),
    "header_collection": ("error", "file", "The header's Collection is not 'CIN'"),
    "header_source_level": (
        "query",
        "file",
        "The header's SourceLevel is not 'L' (a local authority return)",
    ),
    "header_year": ("error", "file", "The header's Year is not the census folder's or the year validated"),
    "header_lea": ("error", "file", "The header's LEA is not the LA the file is named for"),
    "year_unsupported": ("error", "file", "The header's Year is not a reporting year these rules cover"),
    "la_unknown": ("error", "file", "The LA code is not an LA that made a return in the year"),
    "duplicate_return": ("error", "file", "More than one return for one LA and year"),
    "no_children": ("error", "file", "The return holds no Child records"),
    "validation_failed": (
        "error",
        "file",
        "The validator failed on the return: its other findings are missing",
    ),
    "bad_value": (
        "error",
        "value",
        "A value that is not of its type (dates ISO YYYY-MM-DD, booleans true/false/1/0, whole numbers, a "
        "four-digit header Year) or that holds an element inside it: read as missing",
    ),
    "unknown_element": ("query", "value", "An element that is not part of the census message: ignored"),
    "code_list": ("error", "value", "A code outside the year's code list (no DfE rule reports it)"),
    "required": ("error", "value", "A required element is missing (no DfE rule reports it)"),
    "implausible_date": (
        "query",
        "value",
        "A date before 1900 or after the end of the year after the census",
    ),
}
# Reader findings after which nothing of the file is loaded: its header facts are not checked again.
FATAL = ("unreadable", "empty_file", "file_too_large", "dtd_refused", "wrong_root", "xml_syntax", "no_root")


def as_report(
    frame: pl.LazyFrame,
    *,
    rule: str | pl.Expr,
    type_: str | pl.Expr,
    category: str,
    message: pl.Expr,
    table: str | None = None,
    fields: str | pl.Expr | None = None,
    value: pl.Expr | None = None,
) -> pl.LazyFrame:
    names = frame.collect_schema().names()

    def col(name: str, dtype: PolarsDataType) -> pl.Expr:
        return pl.col(name).cast(dtype) if name in names else pl.lit(None, dtype).alias(name)

    def lit(v: str | pl.Expr | None) -> pl.Expr:
        return v if isinstance(v, pl.Expr) else pl.lit(v, pl.String)

    return frame.select(
        col("reporting_year", pl.Int32),
        col("la_code", pl.String),
        col("source_file", pl.String),
        col("LAchildID", pl.String),
        lit(rule).alias("rule"),
        lit(type_).alias("type"),
        pl.lit(category).alias("category"),
        lit(table).alias("table"),
        lit(fields).alias("fields"),
        col("line", pl.Int32),
        col("column", pl.Int32),
        lit(value).alias("value"),
        message.alias("message"),
    )


def reader_issues(issues: pl.LazyFrame) -> pl.LazyFrame:
    """The reader's own findings: file faults are category ``file``, values it could not parse ``value``."""
    return as_report(
        issues,
        rule=pl.col("code"),
        type_=pl.when(pl.col("severity") == "error").then(pl.lit("error")).otherwise(pl.lit("query")),
        category="file",
        fields=pl.col("element"),
        value=pl.col("value") if "value" in issues.collect_schema().names() else None,
        message=pl.col("message"),
    ).with_columns(
        category=pl.when(pl.col("rule").is_in(["bad_value", "unknown_element"]))
        .then(pl.lit("value"))
        .otherwise(pl.lit("file"))
    )


def _already(ctx: Context, code: str, element: str | None = None) -> pl.LazyFrame:
    """Files the reader already reported ``code`` for (or, with ``element``, a bad value of that element)."""
    said = pl.col("code") == code
    if element is not None:
        said |= (pl.col("code") == "bad_value") & (pl.col("element") == element)
    return ctx.lazy("issues").filter(said).select("source_file").unique()


def header_checks(ctx: Context, ref: Path | None = None) -> list[pl.LazyFrame]:
    """What the headers say against the year being validated and the LAs that exist in it."""
    year = ctx.census.year
    unloaded = ctx.lazy("issues").filter(pl.col("code").is_in(FATAL)).select("source_file").unique()
    headers = ctx.lazy("headers").join(unloaded, on="source_file", how="anti", nulls_equal=True)
    valid_las = reference.local_authorities(year, ref).lazy().select(pl.col("old_la_code").alias("la_code"))
    file = pl.col("source_file").fill_null("?")
    checks = [
        as_report(
            headers.filter(pl.col("Collection").fill_null("") != "CIN"),
            rule="header_collection",
            type_="error",
            category="file",
            table="headers",
            fields="Collection",
            value=text("Collection={}", pl.col("Collection")),
            message=text(
                "{}: the header's Collection is not 'CIN': not a children in need census return", file
            ),
        ),
        as_report(
            headers.filter(pl.col("SourceLevel").fill_null("") != "L"),
            rule="header_source_level",
            type_="query",
            category="file",
            table="headers",
            fields="SourceLevel",
            value=text("SourceLevel={}", pl.col("SourceLevel")),
            message=text("{}: the header's SourceLevel should be 'L' (a local authority return)", file),
        ),
        as_report(
            headers.filter(pl.col("Year").is_null() | (pl.col("Year") != year)).join(
                _already(ctx, "header_year", "Year"), on="source_file", how="anti", nulls_equal=True
            ),
            rule="header_year",
            type_="error",
            category="file",
            table="headers",
            fields="Year",
            value=text("Year={}", pl.col("Year")),
            message=text(
                "{}: the header says Year {} but the return is being validated as reporting year {}",
                file,
                pl.col("Year").cast(pl.String).fill_null("(missing)"),
                pl.lit(year),
            ),
        ),
        as_report(
            headers.join(valid_las, on="la_code", how="anti", nulls_equal=True),
            rule="la_unknown",
            type_="error",
            category="file",
            table="headers",
            fields="LEA",
            value=text("LEA={}", pl.col("LEA")),
            message=text(
                "{}: LA code {} is not a local authority that made a return in reporting year {}",
                file,
                pl.col("la_code").fill_null("(missing)"),
                pl.lit(year),
            ),
        ),
        as_report(
            headers.filter(pl.int_range(pl.len()).over(list(LA_KEY)) > 0).join(
                _already(ctx, "duplicate_return"), on="source_file", how="anti", nulls_equal=True
            ),
            rule="duplicate_return",
            type_="error",
            category="file",
            table="headers",
            fields="LEA",
            message=text(
                "{}: a second return for LA {} in {}; only one return per LA and year is allowed",
                file,
                pl.col("la_code"),
                pl.col("reporting_year"),
            ),
        ),
        as_report(
            headers.filter(pl.col("children").fill_null(0) == 0),
            rule="no_children",
            type_="error",
            category="file",
            table="headers",
            fields="Children",
            message=text("{}: the return holds no Child records", file),
        ),
        as_report(
            ctx.lazy("children")
            .select(LA_KEY)
            .unique()
            .join(headers.select(LA_KEY), on=list(LA_KEY), how="anti", nulls_equal=True),
            rule="no_header",
            type_="error",
            category="file",
            table="headers",
            fields="Header",
            message=text(
                "the return for LA {} has children but no Header: its year and LA cannot be confirmed",
                pl.col("la_code").fill_null("(unknown)"),
            ),
        ),
    ]
    return checks


def value_checks(ctx: Context) -> list[pl.LazyFrame]:
    """Codes outside the year's code list and required values missing, where no DfE rule reports them."""
    codes = ctx.census.codes
    bad_value = (
        ctx.lazy("issues")
        .filter(pl.col("code") == "bad_value")
        .select(*CHILD_KEY, "line", pl.col("element").alias("field"))
    )
    checks = [
        _code_list(ctx, "children", "UPNunknown", list(codes.upn_unknown)),
        _code_list(ctx, "assessment_factors", "AssessmentFactors", [*codes.factors, "8A"]),
    ]
    for table, fields in REQUIRED.items():
        for field in fields:
            missing = (
                ctx.lazy(table)
                .filter(pl.col(field).is_null())
                .with_columns(pl.lit(field).alias("field"))
                .join(bad_value, on=[*CHILD_KEY, "line", "field"], how="anti", nulls_equal=True)
            )
            checks.append(
                as_report(
                    missing,
                    rule="required",
                    type_="error",
                    category="value",
                    table=table,
                    fields=field,
                    message=text(
                        "child {} (line {}): required element {} is missing",
                        pl.col("LAchildID").fill_null("?"),
                        pl.col("line").fill_null("?"),
                        pl.lit(field),
                    ),
                )
            )
    latest = dt.date(ctx.census.year + 1, 12, 31)
    for table, fields in DATE_COLUMNS.items():
        for field in fields:
            date = pl.col(field)
            checks.append(
                as_report(
                    ctx.lazy(table).filter((date < EARLIEST_PLAUSIBLE) | (date > latest)),
                    rule="implausible_date",
                    type_="query",
                    category="value",
                    table=table,
                    fields=field,
                    value=text("{}={}", pl.lit(field), date),
                    message=text(
                        "child {} (line {}): {} {} is outside 1900 to {}: please check",
                        pl.col("LAchildID").fill_null("?"),
                        pl.col("line").fill_null("?"),
                        pl.lit(field),
                        date,
                        pl.lit(latest.year),
                    ),
                )
            )
    return checks


def _code_list(ctx: Context, table: str, field: str, valid: list[str]) -> pl.LazyFrame:
    return as_report(
        ctx.lazy(table).filter(pl.col(field).is_not_null() & ~pl.col(field).is_in(valid)),
        rule="code_list",
        type_="error",
        category="value",
        table=table,
        fields=field,
        value=text("{}={}", pl.lit(field), pl.col(field)),
        message=text(
            "child {} (line {}): {} '{}' is not a valid code for {}",
            pl.col("LAchildID").fill_null("?"),
            pl.col("line").fill_null("?"),
            pl.lit(field),
            pl.col(field).str.slice(0, 40),
            pl.lit(collection(ctx.census.year)),
        ),
    )


# Where each year-dependent element is held once read: (table, rows holding it).
_ELEMENT_ROWS = {
    "GenderCurrent": ("children", pl.col("GenderCurrent").is_not_null()),
    "Sex": ("children", pl.col("Sex").is_not_null()),
    "CINPlanDates": ("cin_plans", pl.lit(True)),
    "Content": ("headers", pl.col("has_content_block").fill_null(False)),
}


def element_year_checks(ctx: Context) -> list[pl.LazyFrame]:
    """Elements that do not belong to the year's census message (``tables.ELEMENT_YEARS``): one finding per
    return and element, with how many times and the first line. An error, except the old header Content
    block, which is harmless (a query)."""
    year = ctx.census.year
    checks = []
    for element, (table, held) in _ELEMENT_ROWS.items():
        if element_in_year(element, year):
            continue
        first, last = ELEMENT_YEARS[element]
        span = f"up to {collection(last)}" if last else f"from {collection(first or year)}"
        rows = (
            ctx.lazy(table)
            .filter(held)
            .group_by(list(LA_KEY))
            .agg(
                n=pl.len(),
                line=pl.col("line").min() if table != "headers" else pl.lit(None, pl.Int32),
                source_file=pl.col("source_file").first() if table == "headers" else pl.lit(None, pl.String),
            )
        )
        checks.append(
            as_report(
                rows,
                rule="element_not_in_year",
                type_="query" if element == "Content" else "error",
                category="file",
                table=table,
                fields=element,
                value=text("{}: {} times", pl.lit(element), pl.col("n")),
                message=text(
                    "<{}> belongs to the census {} and is not part of the {} message ({} times, first at line {})",
                    pl.lit(element),
                    pl.lit(span),
                    pl.lit(collection(year)),
                    pl.col("n"),
                    pl.col("line"),
                ),
            )
        )
    return checks


def file_checks(ctx: Context, ref: Path | None = None) -> list[pl.LazyFrame]:
    """Every non-DfE check, as lazy report fragments (``ref``: the reference folder with the LAs per year)."""
    return [
        reader_issues(ctx.lazy("issues")),
        *header_checks(ctx, ref),
        *value_checks(ctx),
        *element_year_checks(ctx),
    ]
