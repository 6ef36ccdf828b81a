"""pandera (polars) schemas for published files, built from the data set descriptions, plus the EES
screener's naming rules that apply to the description itself.

Each rule is a pandera check named after the rule, evaluated per row, so a failure names the data set,
row and column. Rules (EES data standards and ``eesyscreener`` FAIL-level checks that apply to a single
data file, plus the release's disclosure rules):

- columns: exactly the description's columns, in order, all strings; mandatory columns never blank;
- time: ``time_period`` has 4 digits (6 consecutive years for academic/financial identifiers) and
  ``time_identifier`` is the description's;
- geography: allowed ``geographic_level``; England's country code and name; region and LA code/name
  combinations from the shipped lookups; lower-level columns blank on higher-level rows and the row's
  own columns filled; no whitespace padding, no "Total"/"All" in time or geography columns;
- filters: never blank, no padding, only the description's items; ``category`` is the constant;
- no duplicate rows (time + geography + filters) and no null-like strings (``NULL``, ``NA``...);
- indicators: a number in the unit's format (counts and days whole, percentages and rates one decimal
  place) or one of the configured symbols, never blank; counts never in 1..threshold; England and
  regional counts multiples of ``rounding_base``; percentages at most 100; populations never ``c``;
  ``z`` exactly where the indicator does not apply; a percentage/rate/statistic of a ``c`` count is ``c``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandera.polars as pa
import polars as pl

from cin_assets import reference
from cin_assets.census.geography import ENGLAND_CODE, ENGLAND_NAME, LOCAL, NATIONAL, REGIONAL
from cin_assets.datasets.description import DataSet
from cin_assets.disclosure.config import ROUNDED_LEVELS, DisclosureConfig
from cin_assets.publish.screener import SMUSHED_SUBSTRINGS

FOUR_DIGIT_IDENTIFIERS = ("Calendar year", "Reporting year")
SIX_DIGIT_IDENTIFIERS = ("Academic year", "Financial year", "Tax year", "Autumn and spring term")
MANDATORY = ("time_period", "time_identifier", "geographic_level", "country_code", "country_name")
_REGION_COLUMNS = ("region_code", "region_name")
_LA_COLUMNS = ("old_la_code", "new_la_code", "la_name")
_NULL_LIKE = ("NULL", "Null", "null", "NA", "na")
_OB_TOTAL = ("Total", "total", "All", "all")

RULES: dict[str, str] = {
    "time_period": "time_period must be a 4-digit year (6 consecutive-year digits for academic/financial years)",
    "time_identifier": "time_identifier must be the data set's time identifier",
    "geographic_level": "geographic_level is not a level this data set publishes",
    "country": f"country_code/country_name must be {ENGLAND_CODE}/{ENGLAND_NAME}",
    "region_combination": "region_code/region_name is not a valid pair (or is missing on a regional or LA row)",
    "la_combination": "old_la_code/new_la_code/la_name/region do not match the local authority lookup",
    "overcompleted": "lower-level geography columns must be blank on higher-level rows",
    "whitespace": "values must not have leading or trailing spaces",
    "ob_total": "time and geography columns must not hold Total/All",
    "null_like": "null-like strings (NULL, NA, ...) are not allowed",
    "filter_value": "not an item of this filter (or blank)",
    "category": "category must be the data set's category",
    "format": "not a number in the indicator's format nor an allowed symbol (blank, ':' or '~' unless configured)",
    "primary_threshold": "a published count between 1 and the threshold: it must be suppressed",
    "rounding": "England and regional counts must be rounded to the rounding base",
    "percent_range": "a percentage above 100",
    "never_suppressed": "this indicator (a population) is never suppressed",
    "derived_suppression": "computed from a suppressed count, so it must be suppressed too",
    "not_applicable": "z must be used exactly where the indicator does not apply",
    "duplicate_row": "two rows share time period, geography and filter values",
}


@dataclass(frozen=True)
class Rule:
    """One rule over some columns: ``ok(column)`` is true on the rows where that column complies."""

    name: str
    columns: tuple[str, ...]
    ok: Callable[[str], pl.Expr]

    def row_ok(self) -> pl.Expr:
        return pl.all_horizontal(self.ok(c).fill_null(False) for c in self.columns)


def _blank(col: str) -> pl.Expr:
    return pl.col(col).is_null() | (pl.col(col) == "")


def _filled(col: str) -> pl.Expr:
    return ~_blank(col)


@cache
def _lookups(ref: Path | None) -> tuple[pl.Series, pl.Series]:
    """Valid region pairs and LA rows (every year's codes, names and EES regions), as joined keys, from the
    reference folder ``ref`` (the data root's; None: the copy shipped with the project)."""
    regions = reference.regions_table(ref).select(*_REGION_COLUMNS).unique()
    las = pl.read_csv((ref or reference.reference_dir()) / "la_codes_by_year.csv", infer_schema=False)
    las = las.select(*_LA_COLUMNS, *_REGION_COLUMNS).unique()
    return _key_series(regions, _REGION_COLUMNS), _key_series(las, _LA_COLUMNS + _REGION_COLUMNS)


def _key(cols: tuple[str, ...]) -> pl.Expr:
    return pl.concat_str([pl.col(c).fill_null("") for c in cols], separator="\x1f")


def _key_series(table: pl.DataFrame, cols: tuple[str, ...]) -> pl.Series:
    return table.select(_key(cols)).to_series()


def _geography_rules(ds: DataSet, ref: Path | None) -> list[Rule]:
    level = pl.col("geographic_level")
    levels = (NATIONAL,) if ds.geography == "national" else (NATIONAL, REGIONAL, LOCAL)
    ident = getattr(ds, "time_identifier", "Reporting year")
    six = ident in SIX_DIGIT_IDENTIFIERS
    period = pl.col("time_period")
    if six:
        start, end = (
            period.str.slice(2, 2).cast(pl.Int64, strict=False),
            period.str.slice(4, 2).cast(pl.Int64, strict=False),
        )
        period_ok = period.str.contains(r"^\d{6}$") & (end == (start + 1) % 100)
    else:
        period_ok = period.str.contains(r"^\d{4}$")
    geo = [c for c in ds.geography_columns]
    rules = [
        Rule("time_period", ("time_period",), lambda c: period_ok),
        Rule("time_identifier", ("time_identifier",), lambda c: pl.col(c) == ident),
        Rule("geographic_level", ("geographic_level",), lambda c: pl.col(c).is_in(levels)),
        Rule("country", ("country_code",), lambda c: pl.col(c) == ENGLAND_CODE),
        Rule("country", ("country_name",), lambda c: pl.col(c) == ENGLAND_NAME),
        Rule(
            "whitespace",
            tuple(geo),
            lambda c: pl.col(c).is_null() | (pl.col(c) == pl.col(c).str.strip_chars()),
        ),
        Rule("ob_total", tuple(geo), lambda c: ~pl.col(c).fill_null("").is_in(_OB_TOTAL)),
        Rule("null_like", tuple(geo), lambda c: ~pl.col(c).fill_null("").is_in(_NULL_LIKE)),
    ]
    if ds.geography == "la":
        regions, las = _lookups(ref)
        region_ok = (
            pl.when(level.is_in((REGIONAL, LOCAL)))
            .then(_key(_REGION_COLUMNS).is_in(regions.implode()))
            .otherwise(pl.all_horizontal(_blank(c) for c in _REGION_COLUMNS))
        )
        la_ok = (
            pl.when(level == LOCAL)
            .then(
                _key(_LA_COLUMNS + _REGION_COLUMNS).is_in(las.implode())
                & _filled("old_la_code")
                & _filled("la_name")
            )
            .otherwise(pl.all_horizontal(_blank(c) for c in _LA_COLUMNS))
        )
        rules.append(Rule("region_combination", _REGION_COLUMNS, lambda c: region_ok))
        rules.append(Rule("la_combination", _LA_COLUMNS, lambda c: la_ok))
    return rules


def _filter_rules(ds: DataSet) -> list[Rule]:
    rules = []
    if ds.category:
        rules.append(Rule("category", ("category",), lambda c: pl.col(c) == ds.category))
    names = tuple(f.name for f in ds.filters)
    for f in ds.filters:
        items = tuple(f.values) + ((f.total,) if f.total and f.total not in f.values else ())
        if items:
            rules.append(Rule("filter_value", (f.name,), lambda c, items=items: pl.col(c).is_in(items)))
        else:
            rules.append(Rule("filter_value", (f.name,), _filled))
    if names:
        rules.append(Rule("whitespace", names, lambda c: pl.col(c) == pl.col(c).str.strip_chars()))
        rules.append(Rule("null_like", names, lambda c: ~pl.col(c).is_in(_NULL_LIKE)))
    return rules


def _number(col: str) -> pl.Expr:
    return pl.col(col).str.extract(r"^(\d+(?:\.\d+)?)$").cast(pl.Float64)


def _indicator_rules(ds: DataSet, config: DisclosureConfig) -> list[Rule]:
    symbols = (config.suppressed, config.not_applicable, config.not_available)
    counts = tuple(i.name for i in ds.counts())
    visible = set(ds.columns) - {i.name for i in ds.indicators}
    rules = []
    by_pattern: dict[str, list[str]] = {}
    for ind in ds.indicators:
        allowed = [s for s in symbols if not (ind.unit == "population" and s == config.suppressed)]
        number = r"\d+\.\d" if ind.unit in ("percent", "rate") else r"\d+"
        by_pattern.setdefault("^(?:" + "|".join([number, *map(re.escape, allowed)]) + ")$", []).append(
            ind.name
        )
    for pattern, cols in by_pattern.items():
        rules.append(Rule("format", tuple(cols), lambda c, p=pattern: pl.col(c).str.contains(p)))
    if counts:
        thr, base = config.threshold, config.rounding_base
        rules.append(
            Rule(
                "primary_threshold",
                counts,
                lambda c: _number(c).is_null() | (_number(c) == 0) | (_number(c) > thr),
            )
        )
        rounded = pl.col("geographic_level").is_in(ROUNDED_LEVELS)
        rules.append(
            Rule("rounding", counts, lambda c: ~rounded | _number(c).is_null() | (_number(c) % base == 0))
        )
    percents = tuple(i.name for i in ds.indicators if i.unit == "percent")
    if percents:
        rules.append(Rule("percent_range", percents, lambda c: _number(c).is_null() | (_number(c) <= 100)))
    pops = tuple(i.name for i in ds.indicators if i.unit == "population")
    if pops:
        rules.append(Rule("never_suppressed", pops, lambda c: pl.col(c) != config.suppressed))
    for ind in ds.indicators:
        deps = [d for d in ind.depends_on if d in counts]
        if ds.summary and ind.unit == "percent":
            deps = sorted(set(deps) | set(counts))
        if deps and ind.unit in ("percent", "rate", "days"):
            hidden = pl.any_horizontal(pl.col(d) == config.suppressed for d in deps)
            rules.append(
                Rule("derived_suppression", (ind.name,), lambda c, h=hidden: ~h | pl.col(c).is_in(symbols))
            )
        if ind.applies is not None and set(ind.applies.meta.root_names()) <= visible:
            applies = ind.applies.fill_null(False)
            rules.append(
                Rule(
                    "not_applicable",
                    (ind.name,),
                    lambda c, a=applies: (pl.col(c) == config.not_applicable) == ~a,
                )
            )
    return rules


def rules_for(
    dataset: DataSet,
    config: DisclosureConfig = DisclosureConfig(),  # noqa: B008
    ref: Path | None = None,
) -> list[Rule]:
    """Every row-level rule of one published file (see module docstring); LA and region codes from ``ref``."""
    return _geography_rules(dataset, ref) + _filter_rules(dataset) + _indicator_rules(dataset, config)


def _duplicate_key(dataset: DataSet) -> pl.Expr:
    key = [*dataset.geography_columns, *dataset.filter_columns]
    return pl.concat_str([pl.col(c).fill_null("\x00") for c in key], separator="\x1f")


def schema_for(
    dataset: DataSet,
    config: DisclosureConfig = DisclosureConfig(),  # noqa: B008
    ref: Path | None = None,
) -> pa.DataFrameSchema:
    """The pandera schema of one published file of ``dataset``: exactly its columns, in order, all
    strings (mandatory ones never null), plus one vectorised check per rule (named after the rule;
    :func:`explain` says which column of a failing row broke it)."""
    optional = set(_REGION_COLUMNS + _LA_COLUMNS)
    columns = {c: pa.Column(pl.String, nullable=c in optional, required=True) for c in dataset.columns}
    checks = [
        pa.Check(lambda data, r=rule: data.lazyframe.select(r.row_ok().alias("ok")), name=rule.name)
        for rule in rules_for(dataset, config, ref)
    ]
    key = _duplicate_key(dataset)
    checks.append(pa.Check(lambda data: data.lazyframe.select(~key.is_duplicated()), name="duplicate_row"))
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=True, name=dataset.code)


def explain(
    frame: pl.DataFrame, dataset: DataSet, config: DisclosureConfig, rows: list[int], ref: Path | None = None
) -> pl.DataFrame:
    """For the given data rows: row, column, rule of every rule a column breaks there."""
    present = set(frame.columns)
    sub = frame.with_row_index("_row").filter(pl.col("_row").is_in(rows))
    parts = []
    for rule in rules_for(dataset, config, ref):
        cols = [c for c in rule.columns if c in present]
        if not cols:
            continue
        try:
            flags = sub.select(pl.col("_row"), *(rule.ok(c).fill_null(False).alias(c) for c in cols))
        except pl.exceptions.PolarsError:
            continue  # a column the rule needs is missing: the structural failure says so
        bad = flags.unpivot(index="_row", variable_name="column", value_name="ok").filter(~pl.col("ok"))
        parts.append(
            bad.select(pl.col("_row").cast(pl.Int64).alias("row"), "column", pl.lit(rule.name).alias("rule"))
        )
    dupes = (
        sub.filter(_duplicate_key(dataset).is_duplicated())
        if {*dataset.geography_columns, *dataset.filter_columns} <= present
        else sub.clear()
    )
    parts.append(
        dupes.select(
            pl.col("_row").cast(pl.Int64).alias("row"),
            pl.lit(None, dtype=pl.String).alias("column"),
            pl.lit("duplicate_row").alias("rule"),
        )
    )
    schema = {"row": pl.Int64, "column": pl.String, "rule": pl.String}
    return pl.concat([p.cast(schema) for p in parts]) if parts else pl.DataFrame(schema=schema)


# --------------------------------------------------------------------------------- naming (metadata)
SMUSHED = SMUSHED_SUBSTRINGS  # filter words the EES screener refuses inside indicator names
HARMONISED_SEARCH = (
    "sen_",
    "primary_need",
    "secondary_need",
    "establishment_type",
    "provider_type",
    "school_type",
    "phase",
    "ethnic",
)
HARMONISED_NAMES = (
    "sen_status",
    "sen_primary_need",
    "sen_secondary_need",
    "sen_provision",
    "establishment_type",
    "establishment_type_group",
    "provider_type",
    "education_phase",
    "ethnicity_major",
    "ethnicity_minor",
    "ethnicity_detailed",
    "minority_ethnic",
)
_GEOG_CATCH = re.compile(
    r"^(country|sch|prov|inst|estab|reg|la|local|rsc|pfa|pcon|lep|mca|oa|ward|mat).*(name|code|urn|ukprn|number|upin|id)$"
)
_GEOG_NAMES = {
    "region",
    "la",
    "lad",
    "urn",
    "ukprn",
    "lsip",
    "lep",
    "pcon",
    "ward",
    "mat",
    "sponsor",
    "school",
    "provider",
    "institution",
}


def naming_failures(dataset: DataSet) -> list[tuple[str, str, str]]:
    """EES screener FAIL rules on the description's names: (column or "", rule, message)."""
    out: list[tuple[str, str, str]] = []
    if not re.fullmatch(r"[A-Za-z0-9_-]+", dataset.stem):
        out.append(
            ("", "filename_special", f"file name {dataset.stem!r} may only hold letters, digits, - and _")
        )
    for col in dataset.columns:
        if re.search(r"\s", col):
            out.append((col, "col_names_spaces", "column names must not contain spaces"))
        low = col.lower()
        if any(s in low for s in HARMONISED_SEARCH) and col not in HARMONISED_NAMES:
            out.append(
                (
                    col,
                    "harmonised_variables",
                    "name falls under the harmonised data standards but is not a standard name",
                )
            )
    for ind in dataset.indicators:
        hits = [s for s in SMUSHED if s in ind.name.lower()]
        if hits:
            out.append(
                (
                    ind.name,
                    "col_ind_smushed",
                    f"indicator name holds a filter item ({', '.join(hits)}): pivot it into a filter",
                )
            )
    for name in dataset.filter_columns:
        if _GEOG_CATCH.match(name.lower()) or name.lower() in _GEOG_NAMES:
            out.append((name, "meta_geog_catch", "filter name looks like a geography column"))
    return out


def naming_warnings(dataset: DataSet) -> list[str]:
    """EES screener WARNING rules on names (reported, not failed)."""
    out = []
    for col in dataset.columns:
        if not re.fullmatch(r"[a-z0-9_]+", col):
            out.append(f"{col}: not snake_case")
        elif not col[0].isalpha():
            out.append(f"{col}: does not start with a letter")
        if len(col) > 50:
            out.append(f"{col}: longer than 50 characters (API limit)")
    return out
