"""Streaming, hostile-input-safe reader for children in need census XML returns.

One return (one LA, one year) becomes the typed tables of :mod:`cin_assets.census.tables`. The reader
never raises for bad input: an unreadable file, a value that does not parse or a header that contradicts
the file's place in the census folder becomes a row in the ``issues`` table, naming the file, the line and
(where there is one) the child, so one bad return cannot stop the other LAs.

Safety: a return must not declare a DTD (census files never do), which rules out entity expansion
("billion laughs") and external entities before the parser sees them; the parser is also configured with
entity resolution, DTD loading and network access off, and without libxml2's huge-tree mode.
Memory: the file is streamed with ``iterparse`` one ``Child`` at a time and each finished element is
freed, so a return of any size is read in constant memory per child.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl
from lxml import etree

from cin_assets.census import tables

MAX_FILE_BYTES = int(os.environ.get("CIN_MAX_RETURN_BYTES", 2 * 1024**3))
_PROLOG_BYTES = 4096
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)

_CHILD_IDENTIFIERS = (
    "LAchildID",
    "UPN",
    "FormerUPN",
    "UPNunknown",
    "PersonBirthDate",
    "ExpectedPersonBirthDate",
    "GenderCurrent",
    "PersonDeathDate",
)
_EPISODE_FIELDS = (
    "CINreferralDate",
    "ReferralSource",
    "PrimaryNeedCode",
    "CINclosureDate",
    "ReasonForClosure",
    "DateOfInitialCPC",
    "ReferralNFA",
)
_ASSESSMENT_FIELDS = (
    "AssessmentActualStartDate",
    "AssessmentInternalReviewDate",
    "AssessmentAuthorisationDate",
)
_S47_FIELDS = ("S47ActualStartDate", "InitialCPCtarget", "DateOfInitialCPC", "ICPCnotRequired")
_CPP_FIELDS = (
    "CPPstartDate",
    "CPPendDate",
    "InitialCategoryOfAbuse",
    "LatestCategoryOfAbuse",
    "NumberOfPreviousCPP",
)
_HEADER_FIELDS = {
    "Collection": "CollectionDetails",
    "Year": "CollectionDetails",
    "ReferenceDate": "CollectionDetails",
    "SourceLevel": "Source",
    "LEA": "Source",
    "SoftwareCode": "Source",
    "Release": "Source",
    "SerialNo": "Source",
    "DateTime": "Source",
}
# Elements of later collections the 2019-20 tables have no place for: read past them quietly.
_LATER_ELEMENTS = frozenset({"CINPlanDates", "PreProceedingsandFGDM", "Sex"})


class _Columns:
    """Column lists for one table, filled row by row while streaming (cheap appends, one frame at the end)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.data: dict[str, list] = {n: [] for n in names}

    def add(self, **values: object) -> None:
        for name, column in self.data.items():
            column.append(values.get(name))


def _text(elem: etree._Element) -> str | None:
    text = elem.text
    if text is None:
        return None
    text = text.strip()
    return text or None


class _ReturnReader:
    """Reads one file into column lists; the public API is :func:`read_return`."""

    def __init__(self, path: Path, year: int | None) -> None:
        self.path = path
        self.name = path.name
        self.folder_year = year
        self.la_code = path.stem if path.stem.isdigit() else None
        self.cols = {
            name: _Columns(n for n in schema if n not in ("reporting_year", "la_code"))
            for name, schema in tables.SCHEMAS.items()
            if name in tables.CHILD_TABLES
        }
        self.issue_rows: list[dict[str, object]] = []
        self.header: dict[str, object] = {}
        self.unknown: dict[str, tuple[int, int]] = {}
        self.child_ids: list[str | None] = []

    # -- issues -------------------------------------------------------------------------------------------
    def issue(
        self,
        code: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        element: str | None = None,
        child: str | None = None,
        severity: str = "error",
    ) -> None:
        self.issue_rows.append(
            {
                "source_file": self.name,
                "line": line,
                "column": column,
                "element": element,
                "LAchildID": child,
                "severity": severity,
                "code": code,
                "message": f"{self.name}: {message}",
            }
        )

    def unknown_element(self, elem: etree._Element) -> None:
        tag = elem.tag if isinstance(elem.tag, str) else "comment"
        if tag in _LATER_ELEMENTS or tag == "comment":
            return
        first, count = self.unknown.get(tag, (elem.sourceline or 0, 0))
        self.unknown[tag] = (first, count + 1)

    # -- file level ---------------------------------------------------------------------------------------
    def precheck(self) -> bool:
        """Refuse files that are empty, too large, or declare a DTD, before parsing them."""
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            self.issue("unreadable", f"cannot read the file ({exc.strerror})")
            return False
        if size == 0:
            self.issue("empty_file", "the file is empty: no census return in it")
            return False
        if size > MAX_FILE_BYTES:
            self.issue(
                "file_too_large",
                f"the file is {size / 1024**3:.1f} GiB, over the {MAX_FILE_BYTES / 1024**3:.1f} GiB limit "
                "for one LA return (set CIN_MAX_RETURN_BYTES to raise it)",
            )
            return False
        with self.path.open("rb") as fh:
            prolog = fh.read(_PROLOG_BYTES)
        match = _DTD.search(prolog)
        if match:
            line = prolog[: match.start()].count(b"\n") + 1
            self.issue(
                "dtd_refused",
                "the file declares a DTD or entities; census returns never do, and they are refused to "
                "prevent entity-expansion and external-entity attacks",
                line=line,
            )
            return False
        return True

    def read(self) -> None:
        if not self.precheck():
            return
        context = etree.iterparse(
            str(self.path),
            events=("start", "end"),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        root_checked = False
        depth = 0
        try:
            for event, elem in context:
                if event == "start":
                    depth += 1
                    if not root_checked:
                        root_checked = True
                        if elem.tag != "Message":
                            self.issue(
                                "wrong_root",
                                f"the root element is <{elem.tag}>, not <Message>: not a CIN census return",
                                line=elem.sourceline,
                                element=str(elem.tag),
                            )
                            return
                    continue
                depth -= 1
                if elem.tag == "Child" and depth == 2:
                    self.child(elem)
                    elem.clear()
                    parent = elem.getparent()
                    while parent is not None and elem.getprevious() is not None:
                        del parent[0]
                elif elem.tag == "Header" and depth == 1:
                    self.read_header(elem)
                    elem.clear()
                elif depth == 1 and elem.tag != "Children":
                    self.unknown_element(elem)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            self.issue(
                "xml_syntax",
                f"not well-formed XML at line {line}, column {column}: {exc.msg}. The return is not loaded; "
                f"{len(self.child_ids)} children before the fault were discarded",
                line=line,
                column=column,
            )
            self.discard_children()
            return
        if not root_checked:
            self.issue("no_root", "no XML element found")

    def discard_children(self) -> None:
        for cols in self.cols.values():
            for column in cols.data.values():
                column.clear()
        self.child_ids.clear()

    def read_header(self, header: etree._Element) -> None:
        self.header["has_content_block"] = header.find("Content") is not None
        for field, parent in _HEADER_FIELDS.items():
            node = header.find(f"{parent}/{field}")
            self.header[field] = _text(node) if node is not None else None

    # -- child level --------------------------------------------------------------------------------------
    def child(self, child: etree._Element) -> None:
        identifiers: dict[str, object] = {"line": child.sourceline}
        disabilities: list[tuple[str | None, int]] = []
        episodes: list[etree._Element] = []
        for part in child:
            tag = part.tag
            if tag == "ChildIdentifiers":
                for field in part:
                    if field.tag in _CHILD_IDENTIFIERS:
                        identifiers[field.tag] = _text(field)
                    else:
                        self.unknown_element(field)
            elif tag == "ChildCharacteristics":
                for field in part:
                    if field.tag == "Ethnicity":
                        identifiers["Ethnicity"] = _text(field)
                    elif field.tag == "Disabilities":
                        disabilities.extend((_text(d), d.sourceline) for d in field if d.tag == "Disability")
                    else:
                        self.unknown_element(field)
            elif tag == "CINdetails":
                episodes.append(part)
            else:
                self.unknown_element(part)
        child_id = identifiers.get("LAchildID")
        self.child_ids.append(child_id)  # type: ignore[arg-type]
        self.cols["children"].add(**identifiers)
        for code, line in disabilities:
            self.cols["disabilities"].add(LAchildID=child_id, line=line, Disability=code)
        for episode_id, episode in enumerate(episodes, start=1):
            self.episode(child_id, episode_id, episode)

    def episode(self, child_id: object, episode_id: int, episode: etree._Element) -> None:
        fields: dict[str, object] = {
            "LAchildID": child_id,
            "episode_id": episode_id,
            "line": episode.sourceline,
        }
        keys = {"LAchildID": child_id, "episode_id": episode_id}
        n_assess = n_s47 = n_cpp = 0
        for part in episode:
            tag = part.tag
            if tag in _EPISODE_FIELDS:
                fields[tag] = _text(part)
            elif tag == "Assessments":
                n_assess += 1
                row: dict[str, object] = {**keys, "assessment_id": n_assess, "line": part.sourceline}
                for field in part:
                    if field.tag in _ASSESSMENT_FIELDS:
                        row[field.tag] = _text(field)
                    elif field.tag == "FactorsIdentifiedAtAssessment":
                        for factor in field:
                            if factor.tag == "AssessmentFactors":
                                self.cols["assessment_factors"].add(
                                    **keys,
                                    assessment_id=n_assess,
                                    line=factor.sourceline,
                                    AssessmentFactors=_text(factor),
                                )
                    else:
                        self.unknown_element(field)
                self.cols["assessments"].add(**row)
            elif tag == "Section47":
                n_s47 += 1
                row = {**keys, "s47_id": n_s47, "line": part.sourceline}
                for field in part:
                    if field.tag in _S47_FIELDS:
                        row[field.tag] = _text(field)
                    else:
                        self.unknown_element(field)
                self.cols["section47"].add(**row)
            elif tag == "ChildProtectionPlans":
                n_cpp += 1
                row = {**keys, "cpp_id": n_cpp, "line": part.sourceline, "has_reviews_block": False}
                for field in part:
                    if field.tag in _CPP_FIELDS:
                        row[field.tag] = _text(field)
                    elif field.tag == "Reviews":
                        row["has_reviews_block"] = True
                        review_id = 0
                        for review in field:
                            if review.tag == "CPPreviewDate":
                                review_id += 1
                                self.cols["cpp_reviews"].add(
                                    **keys,
                                    cpp_id=n_cpp,
                                    review_id=review_id,
                                    line=review.sourceline,
                                    CPPreviewDate=_text(review),
                                )
                    else:
                        self.unknown_element(field)
                self.cols["cpps"].add(**row)
            else:
                self.unknown_element(part)
        self.cols["episodes"].add(**fields)

    # -- typed output -------------------------------------------------------------------------------------
    def frames(self) -> dict[str, pl.DataFrame]:
        year, la_code = self.identity()
        out: dict[str, pl.DataFrame] = {}
        typed_issues: list[pl.DataFrame] = []
        for name, cols in self.cols.items():
            raw = pl.DataFrame(cols.data, schema=_raw_schema(name)).with_columns(
                reporting_year=pl.lit(year, pl.Int32), la_code=pl.lit(la_code, pl.String)
            )
            frame, problems = _typed(name, raw)
            out[name] = frame
            typed_issues.append(
                problems.with_columns(message=pl.format("{}: {}", pl.lit(self.name), "message"))
            )
        for tag, (line, count) in sorted(self.unknown.items()):
            self.issue(
                "unknown_element",
                f"element <{tag}> is not part of the 2019-20 census message ({count} times, first at line "
                f"{line}); it was ignored",
                line=line,
                element=tag,
                severity="warning",
            )
        out["headers"] = self.header_frame(year, la_code)
        issues = pl.DataFrame(self.issue_rows, schema=_ISSUE_INPUT_SCHEMA) if self.issue_rows else None
        issue_frames = [f for f in [issues, *typed_issues] if f is not None and f.height]
        all_issues = (
            pl.concat([_finish_issues(f, self.name, year, la_code) for f in issue_frames], how="vertical")
            if issue_frames
            else tables.empty("issues")
        )
        out["issues"] = all_issues
        return out

    def identity(self) -> tuple[int | None, str | None]:
        """The return's reporting year and LA: the folder's year and the header's LEA (file name as fallback),
        with disagreements reported."""
        header_year = _as_int(self.header.get("Year"))
        year = self.folder_year if self.folder_year is not None else header_year
        if self.header and self.folder_year is not None and header_year != self.folder_year:
            self.issue(
                "header_year",
                f"the header says Year {self.header.get('Year')!s} but the file is in the {self.folder_year} "
                "census folder",
                element="Year",
            )
        lea = self.header.get("LEA")
        if self.header and self.la_code is not None and lea != self.la_code:
            self.issue(
                "header_lea",
                f"the header says LEA {lea!s} but the file is named for LA {self.la_code}",
                element="LEA",
            )
        la_code = lea if isinstance(lea, str) else self.la_code
        return year, la_code

    def header_frame(self, year: int | None, la_code: str | None) -> pl.DataFrame:
        if not self.header:
            return tables.empty("headers")
        row = {
            **self.header,
            "source_file": self.name,
            "reporting_year": year,
            "la_code": la_code,
            "children": len(self.child_ids),
        }
        frame = pl.DataFrame({k: [v] for k, v in row.items()}).with_columns(
            pl.col("Year").cast(pl.Int32, strict=False),
            pl.col("ReferenceDate").str.to_date("%Y-%m-%d", strict=False),
        )
        return tables.conform("headers", frame)


_ISSUE_INPUT_SCHEMA = {
    "source_file": pl.String,
    "line": pl.Int32,
    "column": pl.Int32,
    "element": pl.String,
    "LAchildID": pl.String,
    "severity": pl.String,
    "code": pl.String,
    "message": pl.String,
}


def _raw_schema(table: str) -> dict[str, pl.DataType]:
    """Streamed columns: positions and flags the reader sets are typed already, XML text is a string."""
    return {
        name: dtype if name in _READER_SET or name.endswith("_id") else pl.String
        for name, dtype in tables.SCHEMAS[table].items()
        if name not in ("reporting_year", "la_code")
    }


_READER_SET = frozenset({"line", "has_reviews_block"})


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _finish_issues(frame: pl.DataFrame, name: str, year: int | None, la_code: str | None) -> pl.DataFrame:
    return tables.conform(
        "issues",
        frame.with_columns(
            source_file=pl.lit(name),
            reporting_year=pl.lit(year, pl.Int32),
            la_code=pl.lit(la_code, pl.String),
        ),
    )


_TRUE = ("true", "1")
_FALSE = ("false", "0")


def _typed(table: str, raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast string columns to the table's types; values that do not parse become null and issue rows."""
    schema = tables.SCHEMAS[table]
    casts: dict[str, pl.Expr] = {}
    for name, dtype in schema.items():
        if name not in raw.columns or raw.schema[name] != pl.String or dtype == pl.String:
            continue
        col = pl.col(name)
        if dtype == pl.Date:
            casts[name] = col.str.to_date("%Y-%m-%d", strict=False)
        elif dtype == pl.Boolean:
            low = col.str.to_lowercase()
            casts[name] = pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
        else:
            casts[name] = col.cast(dtype, strict=False)
    typed = raw.with_columns(**casts) if casts else raw
    problems = [
        raw.filter(pl.col(name).is_not_null() & typed[name].is_null()).select(
            pl.lit(None, pl.String).alias("source_file"),
            pl.col("line").cast(pl.Int32, strict=False),
            pl.lit(None, pl.Int32).alias("column"),
            pl.lit(name).alias("element"),
            pl.col("LAchildID"),
            pl.lit("error").alias("severity"),
            pl.lit("bad_value").alias("code"),
            pl.format(
                "child {} (line {}): {} value '{}' is not a valid {}",
                pl.col("LAchildID").fill_null("?"),
                pl.col("line").fill_null("?"),
                pl.lit(name),
                pl.col(name).str.slice(0, 40),
                pl.lit(_TYPE_WORDS[schema[name]]),
            ).alias("message"),
        )
        for name in casts
    ]
    problem_frame = pl.concat(problems) if problems else pl.DataFrame(schema=_ISSUE_INPUT_SCHEMA)
    return tables.conform(table, typed), problem_frame


_TYPE_WORDS = {pl.Date: "date (YYYY-MM-DD)", pl.Boolean: "boolean (true/false/1/0)", pl.Int32: "whole number"}


def read_return(path: str | os.PathLike[str], year: int | None = None) -> dict[str, pl.DataFrame]:
    """Read one census return into every table of :data:`tables.SCHEMAS` (incl. ``headers``, ``issues``).

    ``year`` is the reporting year of the folder the file sits in (``census/<year>/``); when given, a header
    for another year is reported. A file that cannot be read yields empty child tables and an error row in
    ``issues``; it never raises.
    """
    reader = _ReturnReader(Path(path), year)
    reader.read()
    return reader.frames()


def _read_one(args: tuple[str, int | None]) -> dict[str, pl.DataFrame]:
    return read_return(args[0], args[1])


def concat_tables(parts: Sequence[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """Concatenate per-file tables into one frame per table (empty, typed frames when there are none)."""
    return {
        name: pl.concat([p[name] for p in parts], how="vertical") if parts else tables.empty(name)
        for name in tables.TABLES
    }


def read_returns(
    paths: Sequence[str | os.PathLike[str]], year: int | None = None, workers: int | None = None
) -> dict[str, pl.DataFrame]:
    """Read many returns in parallel (one process per core) and concatenate them, in the order given.

    Two files for the same LA are both read; the second is reported in ``issues``.
    """
    jobs = [(str(p), year) for p in paths]
    workers = min(workers or os.cpu_count() or 1, max(len(jobs), 1))
    if workers <= 1 or len(jobs) <= 1:
        parts = [_read_one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            parts = list(pool.map(_read_one, jobs, chunksize=1))
    out = concat_tables(parts)
    out["issues"] = pl.concat([out["issues"], _duplicate_returns(out["headers"])], how="vertical")
    return out


def _duplicate_returns(headers: pl.DataFrame) -> pl.DataFrame:
    dups = headers.rechunk().filter(pl.int_range(pl.len()).over("reporting_year", "la_code") > 0)
    return tables.conform(
        "issues",
        dups.select(
            "source_file",
            "reporting_year",
            "la_code",
            pl.lit("error").alias("severity"),
            pl.lit("duplicate_return").alias("code"),
            pl.format(
                "{}: a second return for LA {} in {}; only one return per LA and year is allowed",
                pl.col("source_file"),
                pl.col("la_code"),
                pl.col("reporting_year"),
            ).alias("message"),
        ),
    )


def census_files(census_dir: str | os.PathLike[str], year: int) -> list[Path]:
    """The returns for reporting ``year``: ``<census_dir>/<year>/*.xml``, sorted by name."""
    folder = Path(census_dir) / str(year)
    return sorted(p for p in folder.glob("*.xml") if p.is_file()) if folder.is_dir() else []
