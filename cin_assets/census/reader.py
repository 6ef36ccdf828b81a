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
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl
from lxml import etree

from cin_assets.census import tables

MAX_FILE_BYTES = int(os.environ.get("CIN_MAX_RETURN_BYTES", 2 * 1024**3))
_PROLOG_BYTES = 4096
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)

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
# Blocks inside a record that are read by their own loop, not as fields of the record itself.
_NESTED = frozenset(
    {"Assessments", "Section47", "ChildProtectionPlans", "FactorsIdentifiedAtAssessment", "Reviews"}
)
# Elements of later collections the 2019-20 tables have no place for: read past them quietly.
_LATER_ELEMENTS = frozenset({"CINPlanDates", "PreProceedingsandFGDM", "Sex"})


class _Rows:
    """Rows of one table as fixed-order lists (cheap appends; one frame is built at the end).

    ``slot`` maps an XML element name to its position, so the hot loop does one dict lookup per element.
    """

    def __init__(self, table: str) -> None:
        self.names = [n for n in tables.SCHEMAS[table] if n not in ("reporting_year", "la_code")]
        self.slot = {name: i for i, name in enumerate(self.names)}
        # where an XML element's text goes: never a key or a column the reader sets itself
        self.xml_slot = {
            name: i
            for name, i in self.slot.items()
            if name not in _READER_SET
            and not name.endswith("_id")
            and (name != "LAchildID" or table == "children")
        }
        # every table's columns start with its keys and ``line``; the rest are filled from XML
        self.blank = (None,) * (len(self.names) - self.slot["line"] - 1)
        self.rows: list[list[object]] = []

    def new(self, *keys_and_line: object) -> list[object]:
        """Append a row holding the keys and line (in schema order) and empty fields; return it to fill."""
        row = [*keys_and_line, *self.blank]
        self.rows.append(row)
        return row


class _ReturnReader:
    """Reads one file into row lists; the public API is :func:`read_return`."""

    def __init__(self, path: Path, year: int | None) -> None:
        self.path = path
        self.name = path.name
        self.folder_year = year
        self.la_code = path.stem if path.stem.isdigit() else None
        self.rows = {name: _Rows(name) for name in tables.CHILD_TABLES}
        self.issue_rows: list[dict[str, object]] = []
        self.header: dict[str, object] = {}
        self.unknown: dict[str, tuple[int, int]] = {}
        self.children = 0

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

    def _parser(self, **kwargs: object) -> etree.iterparse:
        return etree.iterparse(
            str(self.path),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            **kwargs,
        )

    def read(self) -> None:
        if not self.precheck():
            return
        try:
            _event, root = next(iter(self._parser(events=("start",))))
            docinfo = root.getroottree().docinfo
            if docinfo.doctype or docinfo.internalDTD is not None:
                # a DTD the prolog sniff did not reach (e.g. after a long comment): refused all the same
                self.issue(
                    "dtd_refused",
                    "the file declares a DTD; census returns never do, and they are refused to prevent "
                    "entity-expansion and external-entity attacks",
                    line=root.sourceline,
                )
                return
            if root.tag != "Message":
                self.issue(
                    "wrong_root",
                    f"the root element is <{root.tag}>, not <Message>: not a CIN census return",
                    line=root.sourceline,
                    element=str(root.tag),
                )
                return
            # Python sees only finished <Header> and <Child> elements; everything inside is walked in C-backed
            # loops below, and each child is freed once read.
            context = self._parser(events=("end",), tag=("Header", "Child"))
            for _event, elem in context:
                if elem.tag == "Child":
                    self.child(elem)
                    elem.clear()
                    previous = elem.getprevious()
                    while previous is not None:
                        del elem.getparent()[0]
                        previous = elem.getprevious()
                else:
                    self.read_header(elem)
            for elem in context.root:
                if elem.tag not in ("Header", "Children"):
                    self.unknown_element(elem)
        except StopIteration:
            self.issue("no_root", "no XML element found")
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            self.issue(
                "xml_syntax",
                f"not well-formed XML at line {line}, column {column}: {exc.msg}. The return is not loaded; "
                f"{self.children} children before the fault were discarded",
                line=line,
                column=column,
            )
            for rows in self.rows.values():
                rows.rows.clear()
            self.children = 0

    def read_header(self, header: etree._Element) -> None:
        self.header["has_content_block"] = header.find("Content") is not None
        for field, parent in _HEADER_FIELDS.items():
            text = header.findtext(f"{parent}/{field}")
            self.header[field] = text.strip() or None if text is not None else None

    # -- child level --------------------------------------------------------------------------------------
    def child(self, child: etree._Element) -> None:
        self.children += 1
        children = self.rows["children"]
        row = children.new(None, child.sourceline)
        slot = children.xml_slot
        episodes: list[etree._Element] = []
        disabilities: list[etree._Element] = []
        for part in child:
            tag = part.tag
            if tag == "CINdetails":
                episodes.append(part)
            elif tag == "ChildIdentifiers" or tag == "ChildCharacteristics":
                for field in part:
                    i = slot.get(field.tag)
                    if i is not None:
                        row[i] = field.text
                    elif field.tag == "Disabilities":
                        disabilities.extend(field)
                    else:
                        self.unknown_element(field)
            else:
                self.unknown_element(part)
        child_id = row[slot["LAchildID"]]
        child_id = child_id.strip() or None if isinstance(child_id, str) else None
        disability_rows = self.rows["disabilities"].rows
        for d in disabilities:
            if d.tag == "Disability":
                disability_rows.append([child_id, d.sourceline, d.text])
            else:
                self.unknown_element(d)
        for episode_id, episode in enumerate(episodes, start=1):
            self.episode(child_id, episode_id, episode)

    def _fill(self, table: str, elem: etree._Element, *keys: object) -> list[object]:
        """A row of ``table`` from the leaf elements of ``elem``; returns it for nested blocks to extend."""
        rows = self.rows[table]
        row = rows.new(*keys, elem.sourceline)
        slot = rows.xml_slot
        for field in elem:
            i = slot.get(field.tag)
            if i is not None:
                row[i] = field.text
            elif field.tag not in _NESTED:
                self.unknown_element(field)
        return row

    def episode(self, child_id: object, episode_id: int, episode: etree._Element) -> None:
        self._fill("episodes", episode, child_id, episode_id)
        n_assess = n_s47 = n_cpp = 0
        for part in episode:
            tag = part.tag
            if tag == "Assessments":
                n_assess += 1
                self._fill("assessments", part, child_id, episode_id, n_assess)
                factor_rows = self.rows["assessment_factors"].rows
                for factors in part.iterchildren("FactorsIdentifiedAtAssessment"):
                    for factor in factors.iterchildren("AssessmentFactors"):
                        factor_rows.append([child_id, episode_id, n_assess, factor.sourceline, factor.text])
            elif tag == "Section47":
                n_s47 += 1
                self._fill("section47", part, child_id, episode_id, n_s47)
            elif tag == "ChildProtectionPlans":
                n_cpp += 1
                row = self._fill("cpps", part, child_id, episode_id, n_cpp)
                reviews = part.find("Reviews")
                row[self.rows["cpps"].slot["has_reviews_block"]] = reviews is not None
                if reviews is not None:
                    review_rows = self.rows["cpp_reviews"].rows
                    for review_id, review in enumerate(reviews.iterchildren("CPPreviewDate"), start=1):
                        review_rows.append(
                            [child_id, episode_id, n_cpp, review_id, review.sourceline, review.text]
                        )

    # -- typed output -------------------------------------------------------------------------------------
    def frames(self) -> dict[str, pl.DataFrame]:
        year, la_code = self.identity()
        out: dict[str, pl.DataFrame] = {}
        typed_issues: list[pl.DataFrame] = []
        for name, rows in self.rows.items():
            raw = pl.DataFrame(rows.rows, schema=_raw_schema(name), orient="row").with_columns(
                pl.col(pl.String).str.strip_chars().replace("", None),
                reporting_year=pl.lit(year, pl.Int32),
                la_code=pl.lit(la_code, pl.String),
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
            "children": self.children,
        }
        frame = pl.DataFrame({k: [v] for k, v in row.items()}).with_columns(
            pl.col("Year").cast(pl.Int32, strict=False),
            pl.col("ReferenceDate").cast(pl.String).str.to_date("%Y-%m-%d", strict=False),
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
    lost = (
        [
            n
            for n, bad in raw.select((pl.col(n).is_not_null() & e.is_null()).any() for n, e in casts.items())
            .row(0, named=True)
            .items()
            if bad
        ]
        if casts and raw.height
        else []
    )
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
        for name in lost
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
