"""``cin-validate``: read census returns and print one row per validation failure.

    cin-validate FILE_OR_DIR... [--year 2020] [--format csv|json] [--output PATH] [--workers N]
                 [--rule CODE ...] [--tables DIR] [--fail-on error|query]
    cin-validate --list-rules [--year 2020] [--format csv|json]

Directories are searched (recursively) for ``*.xml``. Without ``--year`` each return is validated for the
year its header gives; with it every return is validated as that reporting year (and a header for another
year is itself an error). ``--rule`` runs only the named rules or checks (file faults are always reported,
as they mean nothing could be checked). ``--tables`` also writes the flattened child-level tables the
reader produced, as parquet and CSV, for the analyst's own use. A file that cannot be read never stops the
others; a count is written to stderr.

Exit codes: 0 clean (at most queries, which DfE lets a return carry once explained; ``--fail-on query``
counts them too), 1 findings, 2 could not run (bad arguments, no XML file found, output not writable).
The report (``--output``) and tables are written to a temporary file and renamed into place, so a reader
never sees half a file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from cin_assets.census import calendar
from cin_assets.census.reader import concat_tables, read_return, read_returns
from cin_assets.validation.engine import REPORT_SCHEMA, SORT, validate_each_la
from cin_assets.validation.files import CHECKS, as_report, reader_issues
from cin_assets.validation.rule import LA_KEY, Rule, text
from cin_assets.validation.rulesets import ruleset

COLUMNS = [
    "reporting_year",
    "la_code",
    "source_file",
    "line",
    "LAchildID",
    "rule",
    "type",
    "fields",
    "value",
    "message",
]


class CannotRun(Exception):
    """The validation could not run at all (exit code 2), as opposed to finding faults in the returns."""


def find_returns(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """XML files named or found under the given paths (sorted, each once), and the paths that do not exist."""
    found: dict[Path, None] = {}
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.update(dict.fromkeys(sorted(p for p in path.rglob("*.xml") if p.is_file())))
        elif path.is_file():
            found[path] = None
        else:
            missing.append(str(raw))
    return list(found), missing


def _file_rows(names: list[str], rule: str, message: str) -> pl.DataFrame:
    frame = pl.LazyFrame({"source_file": names}, schema={"source_file": pl.String})
    return as_report(
        frame,
        rule=rule,
        type_="error",
        category="file",
        message=text("{}: {}", pl.col("source_file"), pl.lit(message)),
    ).collect()


def _subset(tables: dict[str, pl.DataFrame], keep: pl.Expr) -> dict[str, pl.DataFrame]:
    return {name: frame.filter(keep) for name, frame in tables.items()}


def _headerless(tables: dict[str, pl.DataFrame], files: list[Path]) -> list[Path]:
    """Files the reader produced neither a header nor an issue for: a well-formed return without a Header."""
    named = set(tables["headers"]["source_file"].to_list()) | set(tables["issues"]["source_file"].to_list())
    return [f for f in files if f.name not in named]


def _rules(year: int, only: frozenset[str]) -> tuple[Rule, ...]:
    """The year's rule set (:func:`rulesets.ruleset`), limited to ``only`` when given."""
    return tuple(r for r in ruleset(year).rules if not only or r.code in only)


def _by_year(
    tables: dict[str, pl.DataFrame], year: int | None, only: frozenset[str] = frozenset()
) -> list[pl.DataFrame]:
    """Validate the tables as ``year``, or each return as the year its header gives, each with its year's
    rule set."""
    if year is not None:
        return [validate_each_la(tables, year, rules=_rules(year, only))]
    parts = [_unsupported_years(tables)]
    for y in calendar.REPORTING_YEARS:
        part = _subset(tables, pl.col("reporting_year") == y)
        if any(not frame.is_empty() for frame in part.values()):
            parts.append(validate_each_la(part, y, rules=_rules(y, only)))
    return parts


def _duplicates(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """(reporting_year, la_code) of LAs with more than one return."""
    return tables["headers"].group_by(list(LA_KEY)).len().filter(pl.col("len") > 1).select(LA_KEY)


def _read(
    files: list[Path], year: int | None, workers: int | None
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """Read every file; if the reader fails on one, read them one by one so only that file is lost."""
    try:
        return read_returns(files, year=year, workers=workers), {}
    except Exception:  # the slow path below finds the file that fails and reports it
        pass
    parts, unread = [], {}
    for path in files:
        try:
            parts.append(read_return(path, year))
        except Exception as exc:  # reported as a finding: one file never stops the others
            unread[path.name] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return concat_tables(parts), unread


def run(
    paths: Sequence[str | Path],
    year: int | None = None,
    workers: int | None = None,
    only: Sequence[str] = (),
) -> pl.DataFrame:
    """The validation report for every return under ``paths`` (see module docstring)."""
    return check(paths, year, workers, only)[0]


def check(
    paths: Sequence[str | Path],
    year: int | None = None,
    workers: int | None = None,
    only: Sequence[str] = (),
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """The validation report for every return under ``paths``, and the tables they were read into.

    All returns are read together and validated together (every DfE rule is within one return). An LA with
    two returns is reported, and each of its files is then read and validated on its own, so every finding
    names the one file it is in. ``only`` limits the report to those rule or check codes (and file faults).
    Raises :class:`CannotRun` when no XML file is found or a code in ``only`` is unknown.
    """
    if year is not None and year not in calendar.REPORTING_YEARS:
        raise CannotRun(f"--year must be one of {calendar.FIRST_YEAR}-{calendar.LAST_YEAR}")
    every_code = {r.code for y in calendar.REPORTING_YEARS for r in ruleset(y).rules}
    unknown = sorted(set(only) - every_code - set(CHECKS))
    if unknown:
        raise CannotRun(f"unknown rule code(s) {', '.join(unknown)} (see cin-validate --list-rules)")
    rules = frozenset(only)
    files, missing = find_returns(paths)
    if not files:
        raise CannotRun(f"no XML file found in {', '.join(str(p) for p in paths)}")
    read, unread = _read(files, year, workers)
    tables = read
    files = [f for f in files if f.name not in unread]
    headerless = _headerless(tables, files)
    parts = [
        _file_rows(missing, "not_found", "no such file or directory"),
        *(
            _file_rows([name], "read_failed", f"the reader failed ({why}); nothing in it was validated")
            for name, why in unread.items()
        ),
        _file_rows(
            [f.name for f in headerless], "no_header", "the return has no Header: its year and LA are unknown"
        ),
    ]
    dups = _duplicates(tables)
    if not dups.is_empty():
        dup_issues = tables["issues"].filter(pl.col("code") == "duplicate_return")
        parts.append(reader_issues(dup_issues.lazy()).collect())
        dup_names = set(tables["headers"].join(dups, on=list(LA_KEY))["source_file"].to_list())
        tables = {
            name: frame.join(dups, on=list(LA_KEY), how="anti", nulls_equal=True)
            for name, frame in tables.items()
        }
        for path in (f for f in files if f.name in dup_names):
            single = read_return(path, year)
            if not single["headers"].join(dups, on=list(LA_KEY), how="semi", nulls_equal=True).is_empty():
                parts.extend(_by_year(single, year, rules))
    parts.extend(_by_year(tables, year, rules))
    report = pl.concat([p.select(list(REPORT_SCHEMA)) for p in parts], how="vertical")
    if only:
        report = report.filter(pl.col("rule").is_in(list(only)) | (pl.col("category") == "file"))
    return _name_headerless(report, headerless).sort(SORT, nulls_last=False), read


def _unsupported_years(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Returns whose header gives no usable year, or a year these rules do not cover: say so, and keep the
    reader's own findings about them."""
    outside = pl.col("reporting_year").is_null() | ~pl.col("reporting_year").is_in(calendar.REPORTING_YEARS)
    headers = tables["headers"].lazy().filter(outside)
    rows = as_report(
        headers,
        rule="year_unsupported",
        type_="error",
        category="file",
        table="headers",
        fields="Year",
        message=text(
            "{}: the header's Year ({}) is not a reporting year {}-{} that these rules cover; nothing in the "
            "return was validated (use --year to validate it as one of those years)",
            pl.col("source_file"),
            pl.col("Year").cast(pl.String).fill_null("missing or not a year"),
            pl.lit(calendar.FIRST_YEAR),
            pl.lit(calendar.LAST_YEAR),
        ),
    )
    issues = reader_issues(tables["issues"].lazy().filter(outside))
    return pl.concat([rows, issues], how="vertical").collect()


def _name_headerless(report: pl.DataFrame, headerless: list[Path]) -> pl.DataFrame:
    """Give rows of a header-less return (known only by the LA its file is named for) their file name."""
    if not headerless:
        return report
    names = pl.DataFrame(
        {"la_code": [f.stem for f in headerless], "file_of_la": [f.name for f in headerless]}
    ).unique(subset="la_code", keep="first")
    own_rows = (pl.col("rule") == "no_header") & pl.col("source_file").is_null()
    return (
        report.join(names, on="la_code", how="left")
        .filter(~(own_rows & pl.col("file_of_la").is_not_null()))
        .with_columns(pl.coalesce("source_file", "file_of_la").alias("source_file"))
        .drop("file_of_la")
    )


def rule_list(year: int | None = None) -> pl.DataFrame:
    """Every DfE rule (for ``year``, or any year) and every other check: code, error or query, its text."""
    years = [y for y in calendar.REPORTING_YEARS if year is None or y == year]
    span: dict[str, tuple[Rule, int, int]] = {}  # code -> (latest definition, first year, last year)
    for y in years:
        for r in ruleset(y).rules:
            span[r.code] = (r, span[r.code][1] if r.code in span else y, y)
    dfe = [
        (r.code, r.type, "rule", r.table, ", ".join(r.fields), first, last, r.message)
        for r, first, last in span.values()
    ]
    first, last = calendar.FIRST_YEAR, calendar.LAST_YEAR
    others = [(code, t, cat, None, None, first, last, msg) for code, (t, cat, msg) in CHECKS.items()]
    return pl.DataFrame(
        dfe + others,
        schema={
            "rule": pl.String,
            "type": pl.String,
            "category": pl.String,
            "table": pl.String,
            "fields": pl.String,
            "first_year": pl.Int32,
            "last_year": pl.Int32,
            "message": pl.String,
        },
        orient="row",
    )


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through a temporary file beside it, renamed into place only once complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(report: pl.DataFrame, fmt: str, out: Path | None, columns: list[str] = COLUMNS) -> None:
    rows = report.select(columns)
    body = rows.write_json() if fmt == "json" else rows.write_csv()
    body = body if body.endswith("\n") else body + "\n"
    if out is None:
        sys.stdout.write(body)
    else:
        _atomic(out, lambda tmp: tmp.write_text(body, encoding="utf-8"))


def write_tables(tables: dict[str, pl.DataFrame], folder: Path) -> list[Path]:
    """Each table the reader produced as ``<table>.parquet`` and ``<table>.csv`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        for path, write in (
            (folder / f"{name}.parquet", frame.write_parquet),
            (folder / f"{name}.csv", frame.write_csv),
        ):
            _atomic(path, write)
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cin-validate",
        description="Validate children in need census returns against the DfE rules. Exit codes: 0 clean "
        "(queries allowed unless --fail-on query), 1 findings, 2 could not run.",
    )
    parser.add_argument("paths", nargs="*", metavar="FILE_OR_DIR", help="census XML files or folders of them")
    parser.add_argument(
        "--year",
        type=int,
        choices=calendar.REPORTING_YEARS,
        help="reporting year to validate as (2020 = 2019-20); default: each return's header Year",
    )
    parser.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="output format (default csv)"
    )
    parser.add_argument("--output", type=Path, help="write the report here instead of standard output")
    parser.add_argument(
        "--workers", type=int, help="processes reading files in parallel (default: one per core)"
    )
    parser.add_argument(
        "--list-rules",
        action="store_true",
        help="list every rule and check (code, error or query, text) for --year or all years, and exit",
    )
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="CODE",
        help="run only this rule or check (repeatable); file faults are always reported",
    )
    parser.add_argument(
        "--tables",
        type=Path,
        metavar="DIR",
        help="also write the flattened tables read from the returns here, as <table>.parquet and .csv",
    )
    parser.add_argument(
        "--fail-on",
        choices=("error", "query"),
        default="error",
        help="exit 1 on errors (default), or on queries as well",
    )
    args = parser.parse_args(argv)
    try:
        if args.list_rules:
            _write(rule_list(args.year), args.format, args.output, columns=rule_list().columns)
            return 0
        if not args.paths:
            parser.error("give at least one FILE_OR_DIR (or --list-rules)")
        report, tables = check(args.paths, year=args.year, workers=args.workers, only=args.rule)
        _write(report, args.format, args.output)
        if args.tables is not None:
            write_tables(tables, args.tables)
    except (CannotRun, OSError) as exc:
        print(f"cin-validate: could not run: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a fault of the validator, never reported as a finding in the returns
        print(f"cin-validate: could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    errors = report.filter(pl.col("type") == "error").height
    queries = report.height - errors
    returns = report["source_file"].drop_nulls().n_unique()
    print(f"cin-validate: {errors} errors, {queries} queries, in {returns} files", file=sys.stderr)
    return 1 if errors or (queries and args.fail_on == "query") else 0


if __name__ == "__main__":
    raise SystemExit(main())
