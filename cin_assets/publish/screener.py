"""The EES upload screener's checks (``eesyscreener`` 0.3.1) on a data file and its metadata file.

DfE's upload service screens every file with the R package ``eesyscreener``; a FAIL stops the upload.
The R package cannot be installed on our machines, so its checks are re-implemented here, check for
check, under the package's own check names (so a producer can look a verdict up in its documentation).
Every check runs ("forced": no early stop at the first failing stage), and each gives PASS, WARNING or
FAIL with a message saying what is wrong. The verdicts are tested against the real screener's on the
files it screened (``cin_assets_tests/publish/fixtures/eesyscreener``).

The reference lists the checks compare against (geography lookups, GSS ethnicity values, harmonised
column names, DfE's data dictionary) are the package's own data of 0.3.1, shipped in ``screener_data/``
(see its README). Files are read the way the screener reads them: every data column as text, an empty
cell as missing.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import polars as pl

from cin_assets.publish.ees import META_COLUMNS

Verdict = Literal["PASS", "WARNING", "FAIL"]
DATA_DIR = Path(__file__).with_name("screener_data")

REQ_META_COLS = META_COLUMNS  # the EES metadata file's required columns, in order
OPTIONAL_META_COLS = ("filter_default", "parent_filter")
REQ_DATA_COLS = ("geographic_level", "time_period", "time_identifier", "country_code", "country_name")
LEGACY_GSS_SYMBOLS = ("~", ":")
ACCEPTABLE_INDICATOR_UNITS = ("%", "pp", "£", "£m", "numberstring")
_WEEKS = tuple(f"Week {n}" for n in range(1, 53))
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_TERMS = ("Spring term", "Autumn term", "Summer term")
_QUARTERS = tuple(f"Financial year Q{n}" for n in range(1, 5))
_HALVES = ("Part 1 (April to September)", "Part 2 (October to March)")
TIME_ID_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Autumn and spring term",),
    ("Calendar year",),
    ("Financial year",),
    ("Academic year",),
    ("Tax year",),
    ("Reporting year",),
    _TERMS,
    _WEEKS,
    _MONTHS,
    _QUARTERS,
    _HALVES,
)
FOUR_DIGIT_IDS = ("Calendar year", "Reporting year", *_WEEKS, *_MONTHS)
SIX_DIGIT_IDS = (
    "Autumn and spring term",
    *_TERMS,
    "Financial year",
    "Academic year",
    "Tax year",
    *_QUARTERS,
    *_HALVES,
)
POTENTIAL_OB_UNITS = re.compile(
    r"(^(country|sch|prov|inst|estab|reg|la|local|rsc|pfa|pcon|lep|mca|oa|ward|mat)"
    r".*(name|code|urn|ukprn|number|upin|id)$)"
    r"|(^(laestab|estab|sch|school|schools|prov|provider|providers|inst|institution|institutions|name|code|"
    r"urn|ukprn|number|upin|id|region|la|lad|rsc|pcon|lep|mca|oa|ward|mat)$)",
    re.IGNORECASE,
)
SMUSHED_SUBSTRINGS = (
    "male",
    "female",
    "asian",
    "chinese",
    "indian",
    "pakistani",
    "bangladeshi",
    "black",
    "african",
    "caribbean",
    "white",
    "roma",
    "irish",
    "english",
    "british",
    "scottish",
    "welsh",
    "northern irish",
    "arab",
)
API_LIMITS = {"col_name": 50, "col_label": 100, "loc_code": 30, "filter_items": 120}
SCH_PROV = ("school_name", "provider_name")


@dataclass(frozen=True)
class Result:
    """One check's verdict on one file pair (``check`` is the screener's name, without ``check_``);
    ``columns``: the columns a failing naming or indicator check names."""

    check: str
    stage: str
    result: Verdict
    message: str
    columns: tuple[str, ...] = ()


# --- reference data ------------------------------------------------------------------------------------


def _read_rows(name: str) -> list[dict[str, str]]:
    path = DATA_DIR / name
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


@cache
def _lookup(name: str) -> tuple[dict[str, str], ...]:
    return tuple(_read_rows(name))


@dataclass(frozen=True)
class _Level:
    level: str
    code: str | None
    name: str | None
    secondary: str | None


@cache
def geography_levels() -> tuple[_Level, ...]:
    """The screener's 18 geographic levels and their code, name and secondary code columns."""
    return tuple(
        _Level(
            r["geographic_level"],
            r["code_field"] or None,
            r["name_field"] or None,
            r["code_field_secondary"] or None,
        )
        for r in _lookup("geography_df.csv")
    )


def _level(name: str) -> _Level:
    return next(g for g in geography_levels() if g.level == name)


def _ob_units() -> list[str]:
    geog = [c for g in geography_levels() for c in (g.code, g.name, g.secondary) if c]
    return ["time_period", "time_identifier", "geographic_level", *_unique(geog)]


def _geo_code_cols() -> list[str]:
    return _unique(
        [g.code for g in geography_levels() if g.code]
        + [g.secondary for g in geography_levels() if g.secondary]
    )


def _geo_name_cols() -> list[str]:
    return _unique([g.name for g in geography_levels() if g.name])


# --- helpers ----------------------------------------------------------------------------------------------


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _blank(value: object) -> bool:
    return value is None or value == ""


def _meta_col(meta: pl.DataFrame, column: str) -> list[str | None]:
    if column not in meta.columns:
        return [None] * meta.height
    return [None if v is None else str(v) for v in meta.get_column(column).to_list()]


def _cols_meta(meta: pl.DataFrame, grouping: bool = False, excl_indicators: bool = False) -> list[str]:
    names = _meta_col(meta, "col_name")
    groups = _meta_col(meta, "filter_grouping_column")
    types = _meta_col(meta, "col_type")
    keep = [i for i in range(meta.height) if not (excl_indicators and types[i] == "Indicator")]
    cols = [names[i] for i in keep] + ([groups[i] for i in keep] if grouping else [])
    return _unique(c for c in cols if c is not None and c != "")


def _filters(meta: pl.DataFrame, with_groups: bool = False) -> list[str]:
    names, types = _meta_col(meta, "col_name"), _meta_col(meta, "col_type")
    out = [n for n, t in zip(names, types, strict=True) if t == "Filter" and n is not None]
    return out + _filter_groups(meta) if with_groups else out


def _filter_groups(meta: pl.DataFrame) -> list[str]:
    return [g for g in _meta_col(meta, "filter_grouping_column") if g is not None and g != ""]


def _indicators(meta: pl.DataFrame) -> list[str]:
    names, types = _meta_col(meta, "col_name"), _meta_col(meta, "col_type")
    return [n for n, t in zip(names, types, strict=True) if t == "Indicator" and n is not None]


def _distinct(data: pl.DataFrame, column: str) -> list[str | None]:
    return data.get_column(column).unique(maintain_order=True).to_list()


def _n_distinct(data: pl.DataFrame, columns: Sequence[str]) -> dict[str, int]:
    if not columns:
        return {}
    row = data.select(pl.col(c).n_unique() for c in _unique(columns)).row(0)
    return dict(zip(_unique(columns), row, strict=True))


def _levels_present(data: pl.DataFrame) -> list[str | None]:
    return _distinct(data, "geographic_level")


def _quoted(values: Iterable[object]) -> str:
    return "'" + "', '".join(str(v) for v in values) + "'"


def _verdict(ok: bool, fail: Verdict, passed: str, failed: str) -> tuple[Verdict, str]:
    return ("PASS", passed) if ok else (fail, failed)


# --- file names -------------------------------------------------------------------------------------------


def screen_filenames(data_name: str, meta_name: str) -> list[Result]:
    """The five file-name checks (spaces and special characters in each name, and the pair's naming)."""
    out = []
    for name in (data_name, meta_name):
        out.append(
            Result(
                "filename_spaces",
                "filename",
                *_verdict(" " not in name, "FAIL", f"'{name}' has no spaces.", f"'{name}' has spaces."),
            )
        )
    for name in (data_name, meta_name):
        stem = re.sub(r"\.meta$", "", re.sub(r"\.[^.]*$", "", name))
        special = sorted(set(re.sub(r"[A-Za-z0-9]|-|_|\s", "", stem)))
        out.append(
            Result(
                "filename_special",
                "filename",
                *_verdict(
                    not special,
                    "FAIL",
                    f"'{name}' has no special characters.",
                    f"special characters in {name}: {' '.join(special)}",
                ),
            )
        )
    expected = data_name.replace(".csv", ".meta.csv", 1)
    out.append(
        Result(
            "filenames_match",
            "filename",
            *_verdict(
                meta_name == expected,
                "FAIL",
                "The file names follow the naming convention.",
                f"the metadata file should be named '{expected}'",
            ),
        )
    )
    return out


# --- columns and cross-file prechecks ---------------------------------------------------------------------

Check = Callable[[pl.DataFrame, pl.DataFrame], tuple[Verdict, str]]


def col_req_meta(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    missing = [c for c in REQ_META_COLS if c not in meta.columns]
    return _verdict(
        not missing, "FAIL", "All required metadata columns are present.", f"missing: {_quoted(missing)}"
    )


def col_invalid_meta(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = [c for c in meta.columns if c not in REQ_META_COLS + OPTIONAL_META_COLS]
    return _verdict(
        not bad, "FAIL", "No invalid metadata columns.", f"invalid metadata columns: {_quoted(bad)}"
    )


def col_req_data(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    missing = [c for c in REQ_DATA_COLS if c not in data.columns]
    return _verdict(
        not missing, "FAIL", "All required data columns are present.", f"missing: {_quoted(missing)}"
    )


def col_to_rows(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    cols = len(data.columns) - 5
    return _verdict(
        cols >= meta.height,
        "FAIL",
        f"{meta.height} metadata rows for {cols} non-mandatory data columns.",
        f"more metadata rows ({meta.height}) than non-mandatory data columns ({cols})",
    )


def cross_meta_to_data(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    missing = [c for c in _unique(_filters(meta, with_groups=True)) if c not in data.columns]
    return _verdict(
        not missing,
        "FAIL",
        "All metadata variables are in the data file.",
        f"not in the data file: {_quoted(missing)}",
    )


def cross_data_to_meta(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    ob = set(_ob_units())
    candidates = [c for c in data.columns if c not in ob]
    counts = _n_distinct(data, candidates)
    listed = set(_cols_meta(meta, grouping=True))
    missing = [c for c in candidates if counts[c] != 1 and c not in listed]
    return _verdict(
        not missing,
        "WARNING",
        "Every data variable is an observational unit, single-level or in the metadata.",
        f"multi-level variables missing from the metadata: {_quoted(missing)}",
    )


# --- column names -----------------------------------------------------------------------------------------


def col_names_spaces(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = [c for c in data.columns if re.search(r"\s", c)]
    return _verdict(not bad, "FAIL", "No spaces in variable names.", f"spaces in: {_quoted(bad)}")


def col_snake_case(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _unique(ch for c in data.columns for ch in re.sub(r"[a-z0-9]|_", "", c))
    return _verdict(
        not bad, "WARNING", "Variable names are snake_case.", f"invalid characters in names: {_quoted(bad)}"
    )


def col_var_start(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = [c for c in data.columns if not re.match(r"^[a-z]", c)]
    return _verdict(
        not bad,
        "WARNING",
        "Variable names start with a lowercase letter.",
        f"not starting a-z: {_quoted(bad)}",
    )


def _smushed(data: pl.DataFrame, meta: pl.DataFrame) -> list[str]:
    pattern = re.compile("|".join(SMUSHED_SUBSTRINGS), re.IGNORECASE)
    return [c for c in _indicators(meta) if pattern.search(c)]


def col_ind_smushed(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _smushed(data, meta)
    return _verdict(
        not bad,
        "FAIL",
        "No indicator names contain typical filter items.",
        f"indicators with filter items in their names (pivot longer, add a filter): {_quoted(bad)}",
    )


def col_var_characteristic(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    names = _meta_col(meta, "col_name")
    found = "characteristic" in names or "characteristic_group" in names
    found = found or "characteristic_group" in _meta_col(meta, "filter_grouping_column")
    return _verdict(
        not found,
        "WARNING",
        "No 'characteristic' or 'characteristic_group' fields.",
        "'characteristic' / 'characteristic_group' fields are not recommended for the EES table tool",
    )


# --- metadata ---------------------------------------------------------------------------------------------


def meta_col_type(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = [
        t for t in _unique(str(t) for t in _meta_col(meta, "col_type")) if t not in ("Filter", "Indicator")
    ]
    return _verdict(
        not bad, "FAIL", "col_type is always Filter or Indicator.", f"invalid col_type: {_quoted(bad)}"
    )


def meta_ob_unit(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    listed = set(_cols_meta(meta, grouping=True))
    bad = [c for c in _ob_units() if c not in SCH_PROV and c in listed]
    return _verdict(
        not bad,
        "FAIL",
        "No observational units in the metadata.",
        f"observational units to remove: {_quoted(bad)}",
    )


def meta_col_name(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    blank = sum(1 for n in _meta_col(meta, "col_name") if n is None or n.strip() == "")
    return _verdict(
        blank == 0, "FAIL", "col_name is completed in every row.", f"{blank} rows without col_name"
    )


def _duplicated(values: Sequence[object]) -> list[object]:
    seen: set[object] = set()
    out = []
    for v in values:
        if v in seen:
            out.append(v)
        seen.add(v)
    return out


def meta_dupe_label(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    dupes = _duplicated(_meta_col(meta, "label"))
    return _verdict(not dupes, "FAIL", "All labels are unique.", f"duplicated labels: {_quoted(dupes)}")


def _indicator_rows_with(meta: pl.DataFrame, column: str, col_type: str = "Indicator") -> list[str | None]:
    names, types, values = _meta_col(meta, "col_name"), _meta_col(meta, "col_type"), _meta_col(meta, column)
    return [n for n, t, v in zip(names, types, values, strict=True) if t == col_type and not _blank(v)]


def meta_fil_grp(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _indicator_rows_with(meta, "filter_grouping_column")
    return _verdict(
        not bad,
        "FAIL",
        "No indicator has a filter_grouping_column.",
        f"indicators with a filter group: {_quoted(bad)}",
    )


def meta_fil_grp_dupe(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    dupes = _unique(str(v) for v in _duplicated(_filter_groups(meta)))
    return _verdict(
        not dupes, "FAIL", "Filter groups are unique.", f"duplicate filter groups: {', '.join(dupes)}"
    )


def meta_fil_grp_is_fil(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    names = set(_meta_col(meta, "col_name"))
    missing = [g for g in _filter_groups(meta) if g not in names]
    return _verdict(
        not missing,
        "WARNING",
        "Every filter group has its own col_name row (or there are none).",
        f"filter groups without a col_name row: {_quoted(missing)}",
    )


def meta_fil_grp_match(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    missing = [g for g in _unique(_filter_groups(meta)) if g not in data.columns]
    return _verdict(
        not missing,
        "FAIL",
        "Filter groups are in the data.",
        f"filter groups not in the data: {_quoted(missing)}",
    )


def meta_fil_grp_stripped(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = []
    for group in _filter_groups(meta):
        raw = _distinct(data, group)
        stripped = {re.sub(r"[^A-Za-z0-9]", "", str(v)) if v is not None else None for v in raw}
        if len(stripped) != len(raw):
            bad.append(group)
    return _verdict(
        not bad,
        "FAIL",
        "Filter group items stay distinct without non-alphanumeric characters.",
        f"filter group items collide once non-alphanumerics are stripped: {_quoted(bad)}",
    )


def meta_label(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    blank = sum(1 for v in _meta_col(meta, "label") if v is None or v in ("", " "))
    return _verdict(blank == 0, "FAIL", "Every row has a label.", f"{blank} rows without a label")


def meta_filter_hint(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _indicator_rows_with(meta, "filter_hint")
    return _verdict(
        not bad, "FAIL", "No indicator has a filter_hint.", f"indicators with a filter_hint: {_quoted(bad)}"
    )


def meta_geog_catch(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    filters, groups = _filters(meta), _filter_groups(meta)
    both = filters + groups
    if len(filters) == 1 and (filters[0] in SCH_PROV or (groups and groups[0] in SCH_PROV)):
        both = [c for c in both if c not in SCH_PROV]
    caught = [c for c in both if POTENTIAL_OB_UNITS.search(c)]
    return _verdict(
        not caught,
        "FAIL",
        "No filter looks like a geography column.",
        f"filters that look geographic: {_quoted(caught)}",
    )


def meta_indicator_dp(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _indicator_rows_with(meta, "indicator_dp", "Filter")
    return _verdict(
        not bad, "FAIL", "No filter has an indicator_dp.", "filters must not have an indicator_dp"
    )


def meta_col_name_spaces(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = [n for n in _meta_col(meta, "col_name") if n is not None and re.search(r"\s", n)]
    return _verdict(
        not bad, "FAIL", "No spaces in col_name.", f"col_name values with spaces: {', '.join(bad)}"
    )


def meta_col_name_dupe(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    dupes = _duplicated(_meta_col(meta, "col_name"))
    return _verdict(
        not dupes, "FAIL", "col_name values are unique.", f"duplicated col_name: {_quoted(dupes)}"
    )


def meta_ind_dp_set(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    names, types, dps = (
        _meta_col(meta, "col_name"),
        _meta_col(meta, "col_type"),
        _meta_col(meta, "indicator_dp"),
    )
    bad = [
        n
        for n, t, d in zip(names, types, dps, strict=True)
        if t == "Indicator" and (d is None or not d.strip())
    ]
    return _verdict(
        not bad,
        "WARNING",
        "indicator_dp is set for every indicator.",
        f"indicators without indicator_dp: {_quoted(bad)}",
    )


def meta_ind_dp_values(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    failed = "indicator_dp must only hold blanks, zero or positive integers"
    values = [d.strip() for d in _meta_col(meta, "indicator_dp") if d is not None and d.strip()]
    for value in values:
        try:
            number = float(value)
        except ValueError:
            return ("FAIL", failed)
        if number != int(number) or number < 0:
            return ("FAIL", failed)
    return ("PASS", "indicator_dp holds only blanks, zero or positive integers.")


def meta_ind_unit(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _indicator_rows_with(meta, "indicator_unit", "Filter")
    return _verdict(
        not bad, "FAIL", "No filter has an indicator_unit.", f"filters with an indicator_unit: {_quoted(bad)}"
    )


def meta_ind_unit_validation(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    types, units = _meta_col(meta, "col_type"), _meta_col(meta, "indicator_unit")
    bad = _unique(
        u
        for t, u in zip(types, units, strict=True)
        if t == "Indicator" and u is not None and u != "" and u not in ACCEPTABLE_INDICATOR_UNITS
    )
    return _verdict(
        not bad, "FAIL", "indicator_unit values are valid.", f"invalid indicator units: {_quoted(bad)}"
    )


def meta_indicator_grouping(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _indicator_rows_with(meta, "indicator_grouping", "Filter")
    return _verdict(
        not bad, "FAIL", "No filter has an indicator_grouping.", "filters must not have an indicator_grouping"
    )


# --- time -------------------------------------------------------------------------------------------------


def time_period_num(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = [p for p in _distinct(data, "time_period") if p is None or not re.fullmatch(r"\d{4}(\d{2})?", p)]
    return _verdict(
        not bad,
        "FAIL",
        "time_period is a 4 or 6 digit number.",
        f"invalid time_period values: {_quoted(bad)}",
    )


def time_id_valid(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    valid = {t for group in TIME_ID_GROUPS for t in group}
    bad = [t for t in _distinct(data, "time_identifier") if t not in valid]
    return _verdict(
        not bad, "FAIL", "time_identifier values are valid.", f"invalid time_identifier: {_quoted(bad)}"
    )


def time_id_mix(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    ids = _distinct(data, "time_identifier")
    base = ids[0] if ids else None
    allowed = [t for group in TIME_ID_GROUPS if base in group for t in group]
    bad = [t for t in ids if t not in allowed]
    return _verdict(
        not bad,
        "FAIL",
        "time_identifier values are compatible.",
        f"incompatible with '{base}': {_quoted(bad)}",
    )


def time_period(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    ids = _distinct(data, "time_identifier")
    base = ids[0] if ids else None
    periods = _distinct(data, "time_period")
    width = 4 if base in FOUR_DIGIT_IDS else 6 if base in SIX_DIGIT_IDS else None
    if width is None:
        # the screener has no verdict for an identifier outside both lists (time_id_valid fails it)
        return ("FAIL", f"no time_period length is defined for time_identifier '{base}'")
    ok = all(p is not None and len(p) == width for p in periods)
    return _verdict(
        ok,
        "FAIL",
        "time_period lengths match time_identifier.",
        f"time_period for '{base}' must have {width} digits",
    )


def time_period_six(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    periods = _distinct(data, "time_period")
    if any(p is None for p in periods):
        return ("FAIL", "missing time_period values")
    six = [p for p in periods if p is not None and len(p) == 6]

    def consecutive(p: str) -> bool:
        first, second = int(p[2:4]), int(p[4:6])
        return (first == 99 and second == 0) or first + 1 == second

    return _verdict(
        all(consecutive(p) for p in six),
        "FAIL",
        "Six-digit periods are consecutive years.",
        "six-digit periods must be consecutive years such as 201920",
    )


# --- filters ----------------------------------------------------------------------------------------------


def filter_not_singular(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    filters = _filters(meta)
    counts = _n_distinct(data, [f for f in filters if f in data.columns])
    bad = [f for f in _unique(filters) if counts.get(f, 0) < 2]
    return _verdict(
        not bad,
        "FAIL",
        "All filters have two or more levels.",
        f"filters with fewer than two levels: {_quoted(bad)}",
    )


def filter_defaults(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    filters = _filters(meta)
    if not filters:
        return ("PASS", "There are no filters.")
    if "filter_default" in meta.columns:
        types, raw = _meta_col(meta, "col_type"), _meta_col(meta, "filter_default")
        chosen = [d for t, d in zip(types, raw, strict=True) if t == "Filter"]
        defaults = dict(zip(filters, ("Total" if _blank(d) else d for d in chosen), strict=True))
    else:
        defaults = dict.fromkeys(filters, "Total")
    names = set(_meta_col(meta, "col_name"))
    for group in _filter_groups(meta):
        if group not in names:
            defaults[group] = "Total"
    missing = [c for c, d in defaults.items() if d not in set(_distinct(data, c))]
    return _verdict(
        not missing,
        "WARNING",
        "Every filter and group has its default item (Total or filter_default).",
        f"a 'Total' item or a filter_default is needed for: {_quoted(missing)}",
    )


def filter_group_level(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    names, types, groups = (
        _meta_col(meta, "col_name"),
        _meta_col(meta, "col_type"),
        _meta_col(meta, "filter_grouping_column"),
    )
    pairs = [
        (n, g)
        for n, t, g in zip(names, types, groups, strict=True)
        if t == "Filter" and n is not None and g is not None and g != ""
    ]
    counts = _n_distinct(data, [c for pair in pairs for c in pair])
    bad = [g for n, g in pairs if counts[n] < counts[g]]
    return _verdict(
        not bad,
        "FAIL",
        "Filter groups have no more levels than their filters.",
        f"groups with more levels than their filter: {_quoted(bad)}",
    )


def filter_item_limit(data: pl.DataFrame, meta: pl.DataFrame, limit: int = 25_000) -> tuple[Verdict, str]:
    cols = _cols_meta(meta, grouping=True, excl_indicators=True)
    counts = _n_distinct(data, cols)
    bad = [c for c in cols if counts[c] > limit]
    return _verdict(
        not bad,
        "FAIL",
        f"All filters have at most {limit} items.",
        f"filters with more than {limit} items: {_quoted(bad)}",
    )


def filter_whitespace(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    filters = _filters(meta)
    if not filters:
        return ("PASS", "No filters present.")
    geo = [c for g in geography_levels() for c in (g.code, g.name, g.secondary) if c]
    cols = [c for c in _unique(filters + geo) if c in data.columns]
    bad = [v for c in cols for v in _distinct(data, c) if v is not None and v != v.strip()]
    return _verdict(
        not bad,
        "FAIL",
        "No filter items with leading or trailing whitespace.",
        f"items with surrounding whitespace: {_quoted(bad)}",
    )


def filter_ob_total(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    ob = [c for c in _ob_units() if c not in SCH_PROV]
    cols = _unique(
        [c for c in ob if c in data.columns] + [c for c in data.columns if POTENTIAL_OB_UNITS.search(c)]
    )
    filters, groups = _filters(meta), _filter_groups(meta)
    if len(filters) == 1 and (filters[0] in SCH_PROV or (groups and groups[0] in SCH_PROV)):
        cols = [c for c in cols if c not in SCH_PROV]
    totals = {"Total", "total", "All", "all"}
    bad = [c for c in cols if totals & set(_distinct(data, c))]
    return _verdict(
        not bad,
        "FAIL",
        "No Total or All in observational unit columns.",
        f"Total/All in observational units: {_quoted(bad)}",
    )


def filter_blanks(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    cols = _unique(_filters(meta, with_groups=True))
    bad = [c for c in cols if data.get_column(c).is_null().any() or (data.get_column(c) == "").any()]
    return _verdict(
        not bad, "FAIL", "No blank filter or filter group cells.", f"blank cells in: {_quoted(bad)}"
    )


# --- geography --------------------------------------------------------------------------------------------


def geog_level(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    valid = {g.level for g in geography_levels()}
    bad = [v for v in _levels_present(data) if v not in valid]
    return _verdict(
        not bad, "FAIL", "geographic_level values are valid.", f"invalid geographic levels: {_quoted(bad)}"
    )


def geog_level_present(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    levels = _levels_present(data)
    if all(v == "National" for v in levels):
        return ("PASS", "Only National data.")
    expected = [
        c
        for g in geography_levels()
        if g.level != "Planning area" and g.level in levels
        for c in (g.code, g.name, g.secondary)
        if c
    ]
    missing = [c for c in _unique(expected) if c not in data.columns]
    return _verdict(
        not missing,
        "FAIL",
        "Geography columns are present for every level.",
        f"missing geography columns: {_quoted(missing)}",
    )


def _combos(
    data: pl.DataFrame,
    code: str,
    name: str,
    lookup: str,
    restricted: str | None = None,
    extra_code: str | None = None,
) -> tuple[Verdict, str]:
    cols = [c for c in (extra_code, code, name) if c]
    if not all(c in data.columns for c in cols):
        return ("PASS", f"At least one of {' / '.join(cols)} is not in the file.")
    rows = _lookup(lookup)
    valid = {tuple(r.get(c, "") or None for c in cols) for r in rows}
    for extra in _lookup("acceptable_extra_geog_options.csv"):
        prefix = ("z",) if extra_code else ()
        valid.add((*prefix, extra["code"], extra["name"]))
    if restricted is not None:
        kept = data.filter(pl.col(code).is_not_null() & (pl.col(code) != "") & (pl.col(code) != "x"))
    else:
        # as in R, a missing code is neither kept nor dropped by `code != "x"`: it is dropped
        kept = data.filter(pl.col(code) != "x")
        if extra_code:
            kept = kept.filter(pl.col(extra_code).is_not_null())
    seen = kept.select(cols).unique(maintain_order=True).rows()
    bad = [" ".join("NA" if v is None else v for v in row) for row in seen if tuple(row) not in valid]
    return _verdict(
        not bad,
        "FAIL",
        f"All {' / '.join(cols)} combinations are valid.",
        f"combinations not in the lookup: {_quoted(bad)}",
    )


def geog_country_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(data, "country_code", "country_name", "acceptable_countries.csv")


def geog_region_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(data, "region_code", "region_name", "acceptable_regions.csv", "Regional")


def geog_ward_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(data, "ward_code", "ward_name", "acceptable_wards.csv.gz", "Ward")


def geog_pcon_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(data, "pcon_code", "pcon_name", "acceptable_pcons.csv", "Parliamentary constituency")


def geog_lad_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(data, "lad_code", "lad_name", "acceptable_lads.csv", "Local authority district")


def geog_lep_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(
        data,
        "local_enterprise_partnership_code",
        "local_enterprise_partnership_name",
        "acceptable_leps.csv",
        "Local enterprise partnership",
    )


def geog_lsip_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(
        data, "lsip_code", "lsip_name", "acceptable_lsips.csv", "Local skills improvement plan area"
    )


def geog_eda_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(
        data,
        "english_devolved_area_code",
        "english_devolved_area_name",
        "acceptable_edas.csv",
        "English devolved area",
    )


def geog_la_combos(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _combos(data, "new_la_code", "la_name", "acceptable_las.csv", extra_code="old_la_code")


def geog_level_completed(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    levels = _levels_present(data)
    bad: list[str] = []
    for g in geography_levels():
        if g.level == "Planning area" or g.level not in levels:
            continue
        # the LA level is complete with old_la_code and la_name: new_la_code may be blank (legacy LAs)
        code = None if g.code == "new_la_code" else g.code
        rows = data.filter(pl.col("geographic_level") == g.level)
        for c in (code, g.name, g.secondary):
            if c and c in data.columns and (rows.get_column(c).is_null() | (rows.get_column(c) == "")).any():
                bad.append(c)
    return _verdict(
        not bad,
        "FAIL",
        "Geography columns are completed for their level.",
        f"incomplete for their level: {_quoted(bad)}",
    )


def geog_ignored_rows(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    levels = _levels_present(data)
    if all(v in ("Institution", "Planning area") for v in levels):
        return ("FAIL", "only Institution or Planning area rows, which the table tool ignores")
    if "School" in levels and "Provider" in levels:
        return ("FAIL", "School and Provider data are mixed")
    return ("PASS", "No rows mix ignored levels in a way the table tool rejects.")


def _lower_level_dupes(data: pl.DataFrame, by: Literal["name", "code"]) -> tuple[Verdict, str]:
    levels = _levels_present(data)
    bad = []
    for g in geography_levels():
        if g.level not in ("Opportunity area", "MAT", "Sponsor") or g.level not in levels:
            continue
        if not (g.code and g.name and g.code in data.columns and g.name in data.columns):
            continue
        rows = data.filter(
            (pl.col("geographic_level") == g.level) & pl.col(g.code).is_not_null() & (pl.col(g.code) != "")
        )
        key, other = (g.name, g.code) if by == "name" else (g.code, g.name)
        counts = rows.select(key, other).unique().group_by(key).len().filter(pl.col("len") > 1)
        bad += [f"{k} - {n}" for k, n in counts.rows()]
    return _verdict(
        not bad,
        "FAIL",
        f"Every lower-level geography {by} is used once.",
        f"geographies with several {'codes' if by == 'name' else 'names'}: {_quoted(bad)}",
    )


def geog_other_dupes(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _lower_level_dupes(data, "name")


def geog_other_code_dupes(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _lower_level_dupes(data, "code")


def _col_present(data: pl.DataFrame, level: str) -> tuple[Verdict, str]:
    g = _level(level)
    required = [c for c in (g.code, g.name, g.secondary) if c]
    present = [c for c in required if c in data.columns]
    missing = [c for c in required if c not in data.columns]
    return _verdict(
        not present or not missing,
        "FAIL",
        f"{level} columns are all present or all absent.",
        f"missing {level.lower()} columns: {_quoted(missing)}",
    )


def geog_la_col_present(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _col_present(data, "Local authority")


def geog_region_col_present(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _col_present(data, "Regional")


def _region_for(data: pl.DataFrame, level: str) -> tuple[Verdict, str]:
    rows = data.filter(pl.col("geographic_level") == level)
    if rows.is_empty():
        return ("PASS", f"No {level} rows.")
    missing = [c for c in ("region_code", "region_name") if c not in data.columns]
    if missing:
        return ("WARNING", f"region columns missing for {level} rows: {_quoted(missing)}")
    blank = rows.select(
        (pl.col(c).is_null() | (pl.col(c) == "")).any() for c in ("region_code", "region_name")
    ).row(0)
    return _verdict(
        not any(blank),
        "WARNING",
        f"Region columns are completed for {level} rows.",
        f"region_code / region_name missing on {level} rows",
    )


def geog_region_for_la(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _region_for(data, "Local authority")


def geog_region_for_lad(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _region_for(data, "Local authority district")


_NA_EXCLUDED = (
    "National",
    "Regional",
    "Local authority",
    "Local authority district",
    "Parliamentary constituency",
    "Ward",
    "Local enterprise partnership",
    "Local skills improvement plan area",
    "English devolved area",
    "RSC region",
    "Institution",
    "Planning area",
)


def _na_pairs(data: pl.DataFrame, by: Literal["code", "name"]) -> tuple[Verdict, str]:
    levels = _levels_present(data)
    bad = []
    for g in geography_levels():
        if g.level in _NA_EXCLUDED or g.level not in levels or not (g.code and g.name):
            continue
        if g.code not in data.columns or g.name not in data.columns:
            continue
        if by == "code":  # a code 'x' (anywhere in the file) must be named 'Not available'
            wrong = (pl.col(g.code) == "x") & (pl.col(g.name) != "Not available")
            rows = data
        else:  # a location named 'Not available' at this level must have code 'x'
            wrong = (pl.col(g.name) == "Not available") & (pl.col(g.code) != "x")
            rows = data.filter(pl.col("geographic_level") == g.level)
        if rows.filter(wrong).height:
            bad.append(g.level)
    return _verdict(
        not bad,
        "FAIL",
        "'x' codes and 'Not available' names go together.",
        f"levels mixing 'x' and 'Not available': {_quoted(bad)}",
    )


def geog_na(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _na_pairs(data, "code")


def geog_na_code(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _na_pairs(data, "name")


_LOW = ("School", "Provider", "Institution")
_COMPATIBLE = {
    "Regional": (
        "Regional",
        "Local skills improvement plan area",
        "Local authority",
        "Local enterprise partnership",
        "Opportunity area",
        "Local authority district",
        "Parliamentary constituency",
        "English devolved area",
        "Ward",
        *_LOW,
        "Planning area",
        "Police force area",
    ),
    "Local authority": (
        "Local authority",
        "Parliamentary constituency",
        "Local authority district",
        "Ward",
        *_LOW,
        "Planning area",
        "Police force area",
    ),
    "Local authority district": ("Local authority district", "Ward", *_LOW, "Police force area"),
    "Local skills improvement plan area": (
        "Local skills improvement plan area",
        "Local authority district",
        *_LOW,
        "Planning area",
    ),
    "RSC region": ("RSC region", *_LOW),
    "Parliamentary constituency": ("Parliamentary constituency", *_LOW),
    "Local enterprise partnership": ("Local enterprise partnership", *_LOW),
    "English devolved area": ("English devolved area", *_LOW),
    "Opportunity area": ("Opportunity area", *_LOW),
    "Ward": ("Ward", *_LOW),
    "MAT": ("MAT", *_LOW),
    "Sponsor": ("Sponsor", *_LOW),
    "Planning area": ("Planning area", *_LOW),
    "Police force area": ("Police force area", *_LOW),
    "School": ("School",),
    "Provider": ("Provider",),
    "Institution": ("Institution",),
}


def geog_overcompleted_cols(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    levels = _levels_present(data)
    filters, groups = _filters(meta), _filter_groups(meta)
    bad: list[str] = []
    for g in geography_levels():
        if g.level not in _COMPATIBLE:
            continue
        cols = [c for c in (g.code, g.name, g.secondary) if c and c in data.columns]
        if (
            g.level in ("School", "Provider")
            and len(filters) == 1
            and (g.name in filters or g.name in groups)
        ):
            cols = [c for c in cols if c != g.name]
        incompatible = [v for v in levels if v not in _COMPATIBLE[g.level]]
        if not cols or not incompatible:
            continue
        rows = data.filter(pl.col("geographic_level").is_in(incompatible))
        bad += [c for c in cols if (rows.get_column(c).is_not_null() & (rows.get_column(c) != "")).any()]
    bad = _unique(bad)
    return _verdict(
        not bad,
        "FAIL",
        "Geography columns are blank on higher-level rows.",
        f"completed for unexpected levels: {_quoted(bad)}",
    )


# --- general and indicators -------------------------------------------------------------------------------


def general_dupes(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    cols = [c for c in _unique(_ob_units() + _filters(meta, with_groups=True)) if c in data.columns]
    levels = _levels_present(data)
    excluded = ("Institution", "Planning area")
    if not (len(levels) == 1 and levels[0] in ("School", "Provider")):
        excluded = ("School", "Provider", *excluded)
    rows = data.filter(~pl.col("geographic_level").is_in(excluded)).select(cols)
    dupes = rows.height - rows.unique().height
    return _verdict(
        dupes == 0, "FAIL", "No duplicate rows.", f"{dupes} duplicate rows (same time, geography and filters)"
    )


_NULL_SYMBOLS = ("NULL", "Null", "null", "NA", "na")
_LEGACY_NULLS = ("N/A", "n/a", ".", "..", "-")


def _any_value(data: pl.DataFrame, values: Sequence[str]) -> bool:
    if not data.columns:
        return False
    return bool(data.select(pl.any_horizontal(pl.col(c).is_in(values).any() for c in data.columns)).item())


def general_null(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    in_meta = [s for s in _NULL_SYMBOLS if any(s in _meta_col(meta, c) for c in meta.columns)]
    if _any_value(data, _NULL_SYMBOLS) or in_meta:
        return ("FAIL", f"null symbols ({', '.join(_NULL_SYMBOLS)}) in the data or metadata")
    if _any_value(data, _LEGACY_NULLS):
        return ("WARNING", f"legacy no-data symbols ({', '.join(_LEGACY_NULLS)}) in the data file")
    return ("PASS", "No null or legacy no-data symbols.")


def _invalid_entries(data: pl.DataFrame, meta: pl.DataFrame) -> list[str]:
    # as read by the screener an empty cell is missing, not "", so only the legacy symbols are caught here
    return [
        c
        for c in _indicators(meta)
        if c in data.columns and data.get_column(c).is_in([*LEGACY_GSS_SYMBOLS, ""]).any()
    ]


def ind_invalid_entry(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _invalid_entries(data, meta)
    return _verdict(
        not bad,
        "FAIL",
        "No blank values or legacy GSS symbols in indicators.",
        f"{len(bad)} indicators with blanks or legacy symbols ({', '.join(LEGACY_GSS_SYMBOLS)}): {', '.join(bad)}",
    )


# --- harmonised variables ---------------------------------------------------------------------------------


def _harmonised() -> tuple[list[str], set[str]]:
    rows = _lookup("harmonised_col_names.csv")
    return _unique(r["col_name_search_string"] for r in rows), {r["col_name_harmonised"] for r in rows}


def _ethnicity_pairs() -> set[tuple[str, str]]:
    return {(r["ethnicity_major"], r["ethnicity_minor"]) for r in _lookup("acceptable_ethnicity_values.csv")}


def _unharmonised(data: pl.DataFrame, meta: pl.DataFrame) -> list[str]:
    searches, standard = _harmonised()
    pattern = re.compile("|".join(searches))
    return [c for c in _cols_meta(meta, grouping=True) if pattern.search(c.lower()) and c not in standard]


def harmonised_variables(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    bad = _unharmonised(data, meta)
    return _verdict(
        not bad,
        "FAIL",
        "Harmonised contexts use the standard column names.",
        f"columns to rename to the harmonised standard: {_quoted(bad)}",
    )


def harmonised_eth_vals(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    has_major, has_minor = "ethnicity_major" in data.columns, "ethnicity_minor" in data.columns
    pairs = _ethnicity_pairs()
    if has_major and has_minor:
        seen = data.select("ethnicity_major", "ethnicity_minor").unique(maintain_order=True).rows()
        bad = [f"{a}, {b}" for a, b in seen if (a, b) not in pairs]
    elif has_major or has_minor:
        column, index = ("ethnicity_major", 0) if has_major else ("ethnicity_minor", 1)
        valid = {p[index] for p in pairs}
        bad = [v for v in _distinct(data, column) if v not in valid]
    else:
        return ("PASS", "No ethnicity columns.")
    return _verdict(
        not bad,
        "WARNING",
        "Ethnicity values follow the GSS standard.",
        f"ethnicity values outside the GSS standard: {_quoted(bad)}",
    )


def _standard_eth_groups() -> list[str]:
    rows = _lookup("harmonised_col_names.csv")
    names = _unique(r["col_name_harmonised"] for r in rows if "ethnic" in r["col_name_search_string"])
    return [" ".join(w[:1].upper() + w[1:] for w in n.split("_")) for n in names]


def harmonised_eth_char_grp(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    if "characteristic_group" not in data.columns:
        return ("PASS", "No characteristic_group column.")
    standard = re.compile("|".join(_standard_eth_groups()))
    groups = [
        g for g in _distinct(data, "characteristic_group") if g and re.search("ethnic", g, re.IGNORECASE)
    ]
    bad = [g for g in groups if not standard.search(g)]
    return _verdict(
        not bad,
        "FAIL",
        "Ethnicity characteristic groups follow the standard.",
        f"non-standard ethnicity groups: {_quoted(bad)}",
    )


def harmonised_eth_char_vals(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    if "characteristic_group" not in data.columns or "characteristic" not in data.columns:
        return ("PASS", "No characteristic_group and characteristic columns.")
    valid = {v for pair in _ethnicity_pairs() for v in pair}
    rows = data.filter(pl.col("characteristic_group").str.contains("(?i)ethnic"))
    bad = [v for v in _distinct(rows, "characteristic") if v not in valid]
    return _verdict(
        not bad,
        "WARNING",
        "Ethnicity characteristics follow the GSS standard.",
        f"non-GSS ethnicity values: {_quoted(bad)}",
    )


# --- API --------------------------------------------------------------------------------------------------


def _limit(values: Iterable[str | None], kind: str) -> tuple[Verdict, str]:
    limit = API_LIMITS[kind]
    long = [v for v in values if v is not None and len(v) > limit]
    return _verdict(
        not long,
        "WARNING",
        f"Every {kind} is at most {limit} characters.",
        f"longer than {limit} characters: {_quoted(long)}",
    )


def api_char_col_name(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _limit(data.columns, "col_name")


def api_char_col_label(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    return _limit(_meta_col(meta, "label"), "col_label")


def api_char_loc_code(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    cols = [c for c in data.columns if c in _geo_code_cols()]
    return _limit([v for c in cols for v in _distinct(data, c)], "loc_code")


def api_char_filter_items(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    wanted = set(_filters(meta, with_groups=True)) | set(_geo_name_cols())
    cols = [c for c in data.columns if c in wanted]
    return _limit([v for c in cols for v in _distinct(data, c)], "filter_items")


def _dictionary_columns() -> set[tuple[str, str]]:
    rows = _lookup("data_dictionary.csv")
    return {(r["col_type"], n) for r in rows for n in (r["col_name"], r["col_name_parent"]) if n}


def _meta_in_dictionary(meta: pl.DataFrame) -> list[tuple[str | None, str, bool]]:
    """(col_type, column, in the data dictionary) for every meta col_name and filter group, distinct."""
    known = _dictionary_columns()
    types = _meta_col(meta, "col_type")
    pairs = [(t, n) for t, n in zip(types, _meta_col(meta, "col_name"), strict=True) if not _blank(n)]
    pairs += [
        (t, g) for t, g in zip(types, _meta_col(meta, "filter_grouping_column"), strict=True) if not _blank(g)
    ]
    ordered = _unique(pairs)  # type: ignore[arg-type]
    return [(t, str(n), (t, n) in known) for t, n in ordered]


def data_dict_col_name(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    missing = [(t, n) for t, n, ok in _meta_in_dictionary(meta) if not ok]
    indicators = [n for t, n in missing if t == "Indicator"]
    filters = [n for t, n in missing if t == "Filter"]
    parts = ([f"Indicators: {_quoted(indicators)}."] if indicators else []) + (
        [f"Filters: {_quoted(filters)}."] if filters else []
    )
    return _verdict(
        not missing,
        "WARNING",
        "All col_names are in the data dictionary.",
        "not in the data dictionary (API): " + " ".join(parts),
    )


def data_dict_fil_item(data: pl.DataFrame, meta: pl.DataFrame) -> tuple[Verdict, str]:
    columns = [n for t, n, ok in _meta_in_dictionary(meta) if ok and t == "Filter"]
    if not columns:
        return ("PASS", "No data dictionary filter columns.")
    items: dict[str, set[str]] = {}
    for r in _lookup("data_dictionary.csv"):
        for name, item in (
            (r["col_name"], r["filter_item"]),
            (r["col_name_parent"], r["filter_item_parent"]),
        ):
            if name and item:
                items.setdefault(name, set()).add(item)
    bad = sorted(f"'{c} / {v}'" for c in columns for v in _distinct(data, c) if v not in items.get(c, set()))
    return _verdict(
        not bad,
        "WARNING",
        "All filter items are in the data dictionary.",
        f"filter items not in the data dictionary (API): {', '.join(bad)}",
    )


# --- running ----------------------------------------------------------------------------------------------

STAGES: tuple[tuple[str, tuple[Check, ...]], ...] = (
    ("Precheck columns", (col_req_meta, col_invalid_meta, col_req_data, col_to_rows)),
    ("Precheck cross-file", (cross_meta_to_data, cross_data_to_meta)),
    (
        "Check columns",
        (col_names_spaces, col_snake_case, col_var_start, col_ind_smushed, col_var_characteristic),
    ),
    ("Precheck meta", (meta_col_type, meta_ob_unit, meta_col_name)),
    (
        "Check meta",
        (
            meta_dupe_label,
            meta_fil_grp,
            meta_fil_grp_dupe,
            meta_fil_grp_is_fil,
            meta_fil_grp_match,
            meta_fil_grp_stripped,
            meta_label,
            meta_filter_hint,
            meta_geog_catch,
            meta_indicator_dp,
            meta_col_name_spaces,
            meta_col_name_dupe,
            meta_ind_dp_set,
            meta_ind_dp_values,
            meta_ind_unit,
            meta_ind_unit_validation,
            meta_indicator_grouping,
        ),
    ),
    ("Precheck time", (time_period_num, time_id_valid, time_id_mix)),
    ("Precheck filters", (filter_not_singular,)),
    ("Precheck geography", (geog_level, geog_level_present)),
    ("Check time", (time_period, time_period_six)),
    (
        "Check filters",
        (
            filter_defaults,
            filter_group_level,
            filter_item_limit,
            filter_whitespace,
            filter_ob_total,
            filter_blanks,
        ),
    ),
    (
        "Check geography",
        (
            geog_country_combos,
            geog_region_combos,
            geog_ward_combos,
            geog_pcon_combos,
            geog_lad_combos,
            geog_lep_combos,
            geog_lsip_combos,
            geog_eda_combos,
            geog_la_combos,
            geog_level_completed,
            geog_ignored_rows,
            geog_other_dupes,
            geog_la_col_present,
            geog_region_col_present,
            geog_region_for_la,
            geog_region_for_lad,
            geog_na,
            geog_na_code,
            geog_other_code_dupes,
            geog_overcompleted_cols,
        ),
    ),
    ("Check general", (general_dupes, general_null)),
    ("Check indicators", (ind_invalid_entry,)),
    (
        "Check harmonised",
        (harmonised_variables, harmonised_eth_vals, harmonised_eth_char_grp, harmonised_eth_char_vals),
    ),
    (
        "Check API",
        (
            api_char_col_name,
            api_char_col_label,
            api_char_loc_code,
            api_char_filter_items,
            data_dict_col_name,
            data_dict_fil_item,
        ),
    ),
)
_NAMED: dict[str, Callable[[pl.DataFrame, pl.DataFrame], list[str]]] = {
    "col_ind_smushed": _smushed,
    "harmonised_variables": _unharmonised,
    "ind_invalid_entry": _invalid_entries,
}
CHECK_NAMES: tuple[str, ...] = (
    "filename_spaces",
    "filename_special",
    "filenames_match",
    *(check.__name__ for _stage, checks in STAGES for check in checks),
)


def screen_frames(data: pl.DataFrame, meta: pl.DataFrame) -> list[Result]:
    """Every data and metadata check on a pair read as the screener reads it (see :func:`read_pair`).

    A check that cannot run because an earlier stage failed (e.g. a metadata column missing) fails
    with the error, as the screener would have stopped there."""
    out = []
    for stage, checks in STAGES:
        for check in checks:
            try:
                verdict, message = check(data, meta)
            except (KeyError, pl.exceptions.PolarsError, StopIteration) as err:
                verdict, message = "FAIL", f"could not run after earlier failures: {err}"
            named = _NAMED.get(check.__name__)
            columns = tuple(named(data, meta)) if named and verdict == "FAIL" else ()
            out.append(Result(check.__name__, stage, verdict, message, columns))
    return out


def read_pair(data_csv: bytes, meta_csv: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The data file with every column as text (empty cell = missing) and the metadata file."""
    data = pl.read_csv(io.BytesIO(data_csv), infer_schema=False)
    meta = pl.read_csv(io.BytesIO(meta_csv), infer_schema=False)
    return data, meta


def screen(data_name: str, data_csv: bytes, meta_name: str, meta_csv: bytes) -> list[Result]:
    """All checks on one published pair: file names, then data and metadata."""
    data, meta = read_pair(data_csv, meta_csv)
    return screen_filenames(data_name, meta_name) + screen_frames(data, meta)


def screen_files(data_path: Path, meta_path: Path) -> list[Result]:
    return screen(data_path.name, data_path.read_bytes(), meta_path.name, meta_path.read_bytes())


def summary(results: Sequence[Result]) -> Verdict:
    """The pair's overall verdict: FAIL if any check fails, else WARNING if any warns, else PASS."""
    verdicts = {r.result for r in results}
    return "FAIL" if "FAIL" in verdicts else "WARNING" if "WARNING" in verdicts else "PASS"
