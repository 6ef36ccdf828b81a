"""Streaming, hostile-input-safe reader for children in need census XML returns.

One return (one LA, one year) becomes the typed tables of :mod:`cin_assets.census.tables`. The reader
never raises for bad input: an unreadable file, a value that does not parse or a header that contradicts
the file's place in the census folder becomes a row in the ``issues`` table, naming the file, the line and
(where there is one) the child, so one bad return cannot stop the other LAs. Nothing is guessed: a date
that is not ISO ``YYYY-MM-DD``, a value with an element inside it and a ``Child`` or ``Header`` out of
place are reported and read as missing, never as the part that happened to parse.

Safety: a return must not declare a DTD (census files never do), which rules out entity expansion
("billion laughs") and external entities before the parser sees them; the parser is also configured with
entity resolution, DTD loading and network access off, and without libxml2's huge-tree mode.
Memory: the file is streamed with ``iterparse`` one ``Child`` at a time and each finished element is
freed, so a return of any size is read in constant memory per child.
Speed: the walk only appends element text and line numbers to flat buffers; typing (strip, casts, bad
values) is done by polars afterwards in a few calls for a whole batch of files, so small returns do not
each pay for dozens of polars calls.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from lxml import etree  # pyright: ignore[reportAttributeAccessIssue]  (compiled, no stubs)
from polars._typing import PolarsDataType

from cin_assets.census import tables
from cin_assets.census.calendar import LAST_YEAR

DEFAULT_MAX_FILE_BYTES = 2 * 1024**3


def max_file_bytes() -> int:
    """The size limit for one LA return, read when a file is checked so a process can change it."""
    return int(os.environ.get("CIN_MAX_RETURN_BYTES", DEFAULT_MAX_FILE_BYTES))


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
    {
        "Assessments",
        "CINPlanDates",
        "Section47",
        "ChildProtectionPlans",
        "FactorsIdentifiedAtAssessment",
        "Reviews",
    }
)
# Elements of collections after the last supported year: no table holds them; each is reported (never
# skipped silently), see tables.ELEMENT_YEARS.
_NOT_READ = frozenset(e for e, (first, _) in tables.ELEMENT_YEARS.items() if first and first > LAST_YEAR)


# Columns every table gets from the file it came from, not from a row.
_FILE_KEYS = ("reporting_year", "la_code")
# Columns the reader sets itself rather than reading an element's text.
_READER_SET = frozenset({"line", "has_reviews_block"})


class _Layout:
    """How one table's rows are streamed: the child id and XML text into a flat list of strings, positions,
    ``line`` and flags into a flat list of ints, one row after the other (cheap extends, no per-row lists
    kept), so the typed frame is built once from two buffers."""

    def __init__(self, table: str) -> None:
        columns = [n for n in tables.SCHEMAS[table] if n not in _FILE_KEYS]
        self.ints = tuple(n for n in columns if n in _READER_SET or n.endswith("_id"))
        self.strs = tuple(n for n in columns if n not in self.ints)  # LAchildID first
        # where an XML element's text goes; only the children table reads LAchildID from its own element
        self.slot = {n: i for i, n in enumerate(self.strs) if n != "LAchildID" or table == "children"}
        self.blank = ("",) * (len(self.strs) - 1)


_LAYOUTS = {name: _Layout(name) for name in tables.CHILD_TABLES}


@dataclass
class _Raw:
    """One file as read, before typing: small and picklable, so workers hand it back cheaply and many
    files are typed together in one pass."""

    name: str
    year: int | None
    la_code: str | None
    header: dict[str, object] | None
    issues: list[dict[str, object]]
    rows: dict[str, int]
    strs: dict[str, str]  # per table: every string cell, row after row, joined by NUL (never in XML text)
    ints: dict[str, bytes]  # per table: every int cell, row after row, as native int32


class _ReturnReader:
    """Reads one file into flat buffers; the public API is :func:`read_return`."""

    def __init__(self, path: Path, year: int | None) -> None:
        self.path = path
        self.name = path.name
        self.folder_year = year
        self.la_code = path.stem if path.stem.isdigit() else None
        self.strs: dict[str, list[str]] = {name: [] for name in tables.CHILD_TABLES}
        self.ints: dict[str, list[int]] = {name: [] for name in tables.CHILD_TABLES}
        self.issue_rows: list[dict[str, object]] = []
        self.header: dict[str, object] = {}
        self.unknown: dict[str, tuple[int, int]] = {}
        self.header_lines: dict[str, int | None] = {}
        self.children = 0
        self.episodes_of: dict[str, int] = {}  # episodes so far per LAchildID (a repeated ID continues)
        self.mixed_values: list[tuple[str, int, int, str, str]] = []  # of the child being read

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
        value: str | None = None,
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
                "value": value,
                "message": f"{self.name}: {message}",
            }
        )

    def mixed(self, field: etree._Element, row_line: int | None) -> str:
        """A value with an element inside (``AB<x/>CD``): noted for the child's report, read as missing
        rather than as its first text run."""
        inner = next(field.iterchildren(), None)
        tag = inner.tag if inner is not None and isinstance(inner.tag, str) else "?"
        self.mixed_values.append(
            (str(field.tag), row_line or 0, field.sourceline or 0, tag, "".join(field.itertext())[:100])
        )
        return ""

    def structure(self, elem: etree._Element, where: str) -> None:
        self.issue(
            "misplaced_element",
            f"<{elem.tag}> at line {elem.sourceline} is {where}; it was not read",
            line=elem.sourceline,
            element=str(elem.tag),
        )

    def unknown_element(self, elem: etree._Element) -> None:
        tag = elem.tag if isinstance(elem.tag, str) else "comment"
        if tag == "comment":
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
        limit = max_file_bytes()
        if size > limit:
            self.issue(
                "file_too_large",
                f"the file is {size / 1024**3:.1f} GiB, over the {limit / 1024**3:.1f} GiB limit "
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

    def refused(self, root: etree._Element) -> bool:
        """Check the root as soon as it has started, before any of its content is read."""
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            # a DTD the prolog sniff did not reach (e.g. after a long comment): refused all the same
            self.issue(
                "dtd_refused",
                "the file declares a DTD; census returns never do, and they are refused to prevent "
                "entity-expansion and external-entity attacks",
                line=root.sourceline,
            )
            return True
        if root.tag != "Message":
            self.issue(
                "wrong_root",
                f"the root element is <{root.tag}>, not <Message>: not a CIN census return",
                line=root.sourceline,
                element=str(root.tag),
            )
            return True
        return False

    def read(self) -> None:
        if not self.precheck():
            return
        # The buffers grow by hundreds of thousands of strings and no cycles: the cyclic collector would
        # only rescan them, so it is paused for the parse (reference counting still frees every element).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.parse()
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (None, None)
            self.issue(
                "xml_syntax",
                f"not well-formed XML at line {line}, column {column}: {exc.msg}. The return is not loaded; "
                f"{self.children} children before the fault were discarded",
                line=line,
                column=column,
            )
            for buffer in (*self.strs.values(), *self.ints.values()):
                buffer.clear()
            self.children = 0
        finally:
            if collecting:
                gc.enable()

    def parse(self) -> None:
        # One pass: the first event (the start of <Message>, or of the first <Header>/<Child> under a wrong
        # root) is where the root is checked. Python sees only <Header> and <Child>; everything inside is
        # walked below, and each child is freed once read.
        context = etree.iterparse(
            str(self.path),
            events=("start", "end"),
            tag=("Message", "Header", "Child"),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        root = None
        for event, elem in context:
            if root is None:
                root = elem.getroottree().getroot()
                if self.refused(root):
                    return
            if event == "start":
                continue
            parent = elem.getparent()
            if elem.tag == "Child":
                if parent is None or parent.tag != "Children" or parent.getparent() is not root:
                    self.structure(
                        elem, f"inside <{parent.tag if parent is not None else '?'}>, not <Children>"
                    )
                    if parent is not None:
                        parent.remove(elem)
                    continue
                self.child(elem)
                elem.clear()
                previous = elem.getprevious()
                while previous is not None:
                    del parent[0]
                    previous = elem.getprevious()
            elif elem.tag == "Header":
                if parent is not root:
                    self.structure(
                        elem, f"inside <{parent.tag if parent is not None else '?'}>, not <Message>"
                    )
                elif self.header:
                    self.structure(elem, "a second Header: a return has one")
                else:
                    self.read_header(elem)
        if root is None:
            root = context.root
            if root is None:
                self.issue("no_root", "no XML element found")
                return
            if self.refused(root):
                return
        for elem in root:
            if elem.tag not in ("Header", "Children"):
                self.unknown_element(elem)

    def read_header(self, header: etree._Element) -> None:
        self.header["line"] = header.sourceline
        self.header["has_content_block"] = header.find("Content") is not None
        for field, parent in _HEADER_FIELDS.items():
            elem = header.find(f"{parent}/{field}")
            self.header_lines[field] = elem.sourceline if elem is not None else header.sourceline
            text = None if elem is None else self.mixed(elem, header.sourceline) if len(elem) else elem.text
            self.header[field] = text.strip() or None if text is not None else None
        self.report_mixed(None, "header")

    # -- child level --------------------------------------------------------------------------------------
    def _fill(self, table: str, elem: etree._Element, child_id: str) -> list[etree._Element]:
        """Stream a row of ``table`` from the leaf elements of ``elem`` (the caller adds its ints); returns
        the nested blocks met on the way, for the caller to read in order."""
        layout = _LAYOUTS[table]
        row = [child_id, *layout.blank]
        get = layout.slot.get
        nested = []
        for field in elem:
            tag = field.tag
            i = get(tag)
            if i is not None:
                row[i] = field.text or "" if not len(field) else self.mixed(field, elem.sourceline)
            elif tag in _NESTED:
                nested.append(field)
            else:
                self.unknown_element(field)
        self.strs[table] += row
        return nested

    def child(self, child: etree._Element) -> None:
        self.children += 1
        unknown = self.unknown_element
        layout = _LAYOUTS["children"]
        row = ["", *layout.blank]
        get = layout.slot.get
        episodes: list[etree._Element] = []
        disabilities: list[etree._Element] = []
        for part in child:
            tag = part.tag
            if tag == "CINdetails":
                episodes.append(part)
            elif tag == "ChildIdentifiers" or tag == "ChildCharacteristics":
                for field in part:
                    tag = field.tag
                    i = get(tag)
                    if i is not None:
                        row[i] = field.text or "" if not len(field) else self.mixed(field, child.sourceline)
                    elif tag == "Disabilities":
                        disabilities += field
                    else:
                        unknown(field)
            else:
                unknown(part)
        self.strs["children"] += row
        self.ints["children"].append(child.sourceline)
        child_id = row[0].strip()
        strs, ints = self.strs["disabilities"], self.ints["disabilities"]
        for d in disabilities:
            if d.tag == "Disability":
                strs += (child_id, d.text or "" if not len(d) else self.mixed(d, d.sourceline))
                ints.append(d.sourceline)
            else:
                unknown(d)
        first = self.episodes_of.get(child_id, 0)
        self.episodes_of[child_id] = first + len(episodes)
        for episode_id, episode in enumerate(episodes, start=first + 1):
            self.episode(child_id, episode_id, episode)
        if self.mixed_values:
            self.report_mixed(child_id)

    def report_mixed(self, child_id: str | None, where: str = "child") -> None:
        for field, row_line, line, inner, value in self.mixed_values:
            who = f"child {child_id or '?'} (line {row_line})" if where == "child" else f"the {where}"
            self.issue(
                "bad_value",
                f"{who}: {field} at line {line} holds an element <{inner}> inside its value "
                f"'{value[:40]}'; a value must be text only, so it was read as missing",
                line=row_line,
                element=field,
                child=child_id or None,
                value=value,
            )
        self.mixed_values.clear()

    def episode(self, child_id: str, episode_id: int, episode: etree._Element) -> None:
        nested = self._fill("episodes", episode, child_id)
        self.ints["episodes"] += (episode_id, episode.sourceline)
        n_assess = n_plan = n_s47 = n_cpp = 0
        for part in nested:
            tag = part.tag
            if tag == "Assessments":
                n_assess += 1
                self.ints["assessments"] += (episode_id, n_assess, part.sourceline)
                factor_strs, factor_ints = self.strs["assessment_factors"], self.ints["assessment_factors"]
                for block in self._fill("assessments", part, child_id):
                    if block.tag == "FactorsIdentifiedAtAssessment":
                        for factor in block.iterchildren("AssessmentFactors"):
                            text = (
                                factor.text or ""
                                if not len(factor)
                                else self.mixed(factor, factor.sourceline)
                            )
                            factor_strs += (child_id, text)
                            factor_ints += (episode_id, n_assess, factor.sourceline)
            elif tag == "CINPlanDates":
                n_plan += 1
                self.ints["cin_plans"] += (episode_id, n_plan, part.sourceline)
                self._fill("cin_plans", part, child_id)
            elif tag == "Section47":
                n_s47 += 1
                self.ints["section47"] += (episode_id, n_s47, part.sourceline)
                self._fill("section47", part, child_id)
            elif tag == "ChildProtectionPlans":
                n_cpp += 1
                reviews = next((b for b in self._fill("cpps", part, child_id) if b.tag == "Reviews"), None)
                self.ints["cpps"] += (episode_id, n_cpp, part.sourceline, reviews is not None)
                if reviews is not None:
                    review_strs, review_ints = self.strs["cpp_reviews"], self.ints["cpp_reviews"]
                    for review_id, review in enumerate(reviews.iterchildren("CPPreviewDate"), start=1):
                        text = review.text or "" if not len(review) else self.mixed(review, review.sourceline)
                        review_strs += (child_id, text)
                        review_ints += (episode_id, n_cpp, review_id, review.sourceline)

    # -- hand-over ----------------------------------------------------------------------------------------
    def raw(self) -> _Raw:
        """The file's buffers, header and file-level issues, packed for :func:`_frames`."""
        year, la_code = self.identity()
        self.check_reference_date()
        for tag, (line, count) in sorted(self.unknown.items()):
            if tag in _NOT_READ:
                first = tables.ELEMENT_YEARS[tag][0] or 0
                self.issue(
                    "element_not_in_year",
                    f"element <{tag}> belongs to the {tables.collection(first)} census onward, not to this "
                    f"return's year ({count} times, first at line {line}); it was not read",
                    line=line,
                    element=tag,
                )
                continue
            self.issue(
                "unknown_element",
                f"element <{tag}> is not part of the census message ({count} times, first at line "
                f"{line}); it was ignored",
                line=line,
                element=tag,
                severity="warning",
            )
        header = (
            {
                **self.header,
                "source_file": self.name,
                "reporting_year": year,
                "la_code": la_code,
                "children": self.children,
            }
            if self.header
            else None
        )
        return _Raw(
            name=self.name,
            year=year,
            la_code=la_code,
            header=header,
            issues=[{**row, "reporting_year": year, "la_code": la_code} for row in self.issue_rows],
            rows={t: len(self.ints[t]) // len(_LAYOUTS[t].ints) for t in tables.CHILD_TABLES},
            strs={t: "\0".join(s) for t, s in self.strs.items()},
            ints={t: array("i", i).tobytes() for t, i in self.ints.items()},
        )

    def check_reference_date(self) -> None:
        """The header's ReferenceDate, typed later with the batch: say here when it will not parse."""
        text = self.header.get("ReferenceDate")
        if isinstance(text, str):
            try:
                ok = _ISO_DAY.fullmatch(text) is not None and dt.date.fromisoformat(text) is not None
            except ValueError:
                ok = False
            if not ok:
                self.issue(
                    "bad_value",
                    f"the header's ReferenceDate '{text[:40]}' is not a valid date (YYYY-MM-DD)",
                    line=self.header_lines.get("ReferenceDate"),
                    element="ReferenceDate",
                    value=text[:100],
                )

    def identity(self) -> tuple[int | None, str | None]:
        """The return's reporting year and LA: the folder's year and the file's name (the header's LEA when
        the name is not an LA code), with disagreements reported."""
        text = self.header.get("Year")
        header_year = int(text) if isinstance(text, str) and _YEAR.fullmatch(text) else None
        year = self.folder_year if self.folder_year is not None else header_year
        if text is not None and header_year is None:
            self.issue(
                "bad_value",
                f"the header's Year '{str(text)[:40]}' is not a year (four digits, e.g. 2020)",
                line=self.header_lines.get("Year"),
                element="Year",
                value=str(text)[:100],
            )
        elif self.header and self.folder_year is not None and header_year != self.folder_year:
            self.issue(
                "header_year",
                f"the header says Year {text!s} but the file is in the {self.folder_year} census folder",
                line=self.header_lines.get("Year"),
                element="Year",
                value=None if text is None else str(text),
            )
        lea = self.header.get("LEA")
        if self.header and self.la_code is not None and lea != self.la_code:
            self.issue(
                "header_lea",
                f"the header says LEA {lea!s} but the file is named for LA {self.la_code}",
                line=self.header_lines.get("LEA"),
                element="LEA",
                value=None if lea is None else str(lea),
            )
        # the file's place decides its LA: a header naming another LA never moves the figures there
        la_code = self.la_code if self.la_code is not None else lea if isinstance(lea, str) else None
        return year, la_code


_YEAR = re.compile(r"[0-9]{4}")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# -- typed output (once for any number of files) --------------------------------------------------------------
_TRUE = ("true", "1")
_FALSE = ("false", "0")
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # xs:date without a zone; chrono alone also takes 2019-6-1
_TYPE_WORDS = {pl.Date: "date (YYYY-MM-DD)", pl.Boolean: "boolean (true/false/1/0)", pl.Int32: "whole number"}


def _cast(dtype: PolarsDataType, col: pl.Expr) -> pl.Expr:
    """Text to ``dtype``; a value that does not parse becomes null (and is reported by the caller)."""
    if dtype == pl.Date:
        return pl.when(col.str.contains(_ISO_DATE)).then(col.str.to_date("%Y-%m-%d", strict=False))
    if dtype == pl.Boolean:
        low = col.str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
    return col.cast(dtype, strict=False)


def _text_columns(
    raws: Sequence[_Raw], present: list[str]
) -> dict[tuple[str, str], tuple[pl.Series, pl.Series]]:
    """Every text column of the ``present`` tables as (stripped text, typed), for all files at once.

    The cells are split out of each file's joined text and reordered column by column, grouped by target
    type, so splitting, stripping and every cast take two polars calls in all, not a few per table and
    file (which is what small files pay for)."""
    texts: list[str] = []  # per table, per file: split separately, as one huge string needs far more memory
    groups: dict[PolarsDataType, list[tuple[str, str, int, np.ndarray]]] = {}
    start = 0
    for table in present:
        n = sum(r.rows[table] for r in raws)
        texts += (r.strs[table] for r in raws if r.rows[table])
        names = _LAYOUTS[table].strs
        for j, name in enumerate(names):
            cells = np.arange(start + j, start + n * len(names), len(names), dtype=np.uint32)
            groups.setdefault(tables.SCHEMAS[table][name], []).append((table, name, n, cells))
        start += n * len(names)
    # one call splits, reorders and strips every cell; one more casts each type's run of columns
    order = np.concatenate([c for group in groups.values() for *_, c in group])
    text = pl.select(
        pl.lit(pl.Series(texts, dtype=pl.String))
        .str.split("\0")
        .explode()
        .gather(pl.Series(order))
        .str.strip_chars()
        .replace("", None)
    ).to_series()
    runs: list[tuple[PolarsDataType, pl.Series]] = []
    for dtype, group in groups.items():
        runs.append((dtype, text.slice(sum(len(run) for _, run in runs), sum(n for *_, n, _ in group))))
    typed = pl.collect_all(
        [
            pl.LazyFrame({"text": run}).select(_cast(dtype, pl.col("text")))
            for dtype, run in runs
            if dtype != pl.String
        ]
    )
    out: dict[tuple[str, str], tuple[pl.Series, pl.Series]] = {}
    cast = iter(typed)
    for (dtype, run), group in zip(runs, groups.values(), strict=True):
        values = run if dtype == pl.String else next(cast).to_series()
        at = 0
        for table, name, n, _ in group:
            out[table, name] = (run.slice(at, n), values.slice(at, n).alias(name))
            at += n
    return out


def _int_columns(raws: Sequence[_Raw], present: list[str]) -> dict[tuple[str, str], pl.Series]:
    """Every reader-set column (positions, lines, flags) of the ``present`` tables, from one array."""
    blocks = []
    spans = []
    start = 0
    for table in present:
        n = sum(r.rows[table] for r in raws)
        names = _LAYOUTS[table].ints
        cells = np.frombuffer(b"".join(r.ints[table] for r in raws), dtype=np.int32)
        blocks.append(cells.reshape(n, len(names)).T.ravel())  # column after column
        for name in names:
            spans.append((table, name, start, n))
            start += n
    cells = pl.Series(np.concatenate(blocks))
    return {
        (table, name): cells.slice(at, n).cast(tables.SCHEMAS[table][name]).alias(name)
        for table, name, at, n in spans
    }


def _frames(raws: Sequence[_Raw]) -> dict[str, pl.DataFrame]:
    """The typed tables of any number of read files, in file order, with their issues in file order."""
    present = [t for t in tables.CHILD_TABLES if any(r.rows[t] for r in raws)]
    out = {t: tables.empty(t) for t in tables.CHILD_TABLES if t not in present}
    issue_rows = [{**row, "file": i} for i, r in enumerate(raws) for row in r.issues]
    issues = [pl.DataFrame(issue_rows, schema=_ISSUES)] if issue_rows else []
    if present:
        text = _text_columns(raws, present)
        ints = _int_columns(raws, present)
        # the file of every row of every present table, for its year, LA and (in issues) its name
        file = np.concatenate(
            [np.repeat(np.arange(len(raws), dtype=np.uint32), [r.rows[t] for r in raws]) for t in present]
        )
        years = pl.Series("reporting_year", [r.year for r in raws], dtype=pl.Int32)[file]
        las = pl.Series("la_code", [r.la_code for r in raws], dtype=pl.String)[file]
        at = 0
        for table in present:
            n = sum(r.rows[table] for r in raws)
            columns = {"reporting_year": years.slice(at, n), "la_code": las.slice(at, n)}
            columns |= {name: ints[table, name] for name in _LAYOUTS[table].ints}
            columns |= {name: text[table, name][1] for name in _LAYOUTS[table].strs}
            first, *rest = (columns[name] for name in tables.SCHEMAS[table])
            out[table] = frame = first.to_frame().hstack(rest)
            for name in _LAYOUTS[table].strs:
                raw, typed = text[table, name]
                if raw.null_count() != typed.null_count():
                    issues.append(_bad_values(frame, name, raw, file[at : at + n], [r.name for r in raws]))
            at += n
    out["headers"] = _headers([r.header for r in raws if r.header is not None])
    out["issues"] = (
        tables.conform("issues", pl.concat(issues).sort("file", maintain_order=True))
        if issues
        else tables.empty("issues")
    )
    return {t: out[t] for t in tables.TABLES}


_ISSUES = {**tables.SCHEMAS["issues"], "file": pl.UInt32}


def _bad_values(
    frame: pl.DataFrame, name: str, raw: pl.Series, file: np.ndarray, names: list[str]
) -> pl.DataFrame:
    """Issue rows for the cells of column ``name`` that had text but did not parse."""
    dtype = frame.schema[name]
    return (
        frame.select("reporting_year", "la_code", "LAchildID", "line", name)
        .with_columns(text=raw, file=pl.Series(file), source_file=pl.Series(names).gather(file))
        .filter(pl.col("text").is_not_null() & pl.col(name).is_null())
        .select(
            "source_file",
            "reporting_year",
            "la_code",
            "LAchildID",
            "line",
            pl.lit(None, pl.Int32).alias("column"),
            pl.lit(name).alias("element"),
            pl.lit("error").alias("severity"),
            pl.lit("bad_value").alias("code"),
            pl.col("text").str.slice(0, 100).alias("value"),
            pl.format(
                "{}: child {} (line {}): {} value '{}' is not a valid {}",
                "source_file",
                pl.col("LAchildID").fill_null("?"),
                pl.col("line").fill_null("?"),
                pl.lit(name),
                pl.col("text").str.slice(0, 40),
                pl.lit(_TYPE_WORDS[dtype]),
            ).alias("message"),
            "file",
        )
    )


_HEADER_TEXT = {name: pl.String for name in _HEADER_FIELDS}


def _headers(rows: list[dict[str, object]]) -> pl.DataFrame:
    """One row per file that had a header, built once for the batch (Year and ReferenceDate null when they
    do not parse, as before the batching)."""
    if not rows:
        return tables.empty("headers")
    schema = {**tables.SCHEMAS["headers"], **_HEADER_TEXT}
    year, date = pl.col("Year"), pl.col("ReferenceDate")
    return pl.DataFrame(rows, schema=schema).with_columns(
        pl.when(year.str.contains("^[0-9]{4}$")).then(year.cast(pl.Int32, strict=False)),
        _cast(pl.Date, date),
    )


def read_return(path: str | os.PathLike[str], year: int | None = None) -> dict[str, pl.DataFrame]:
    """Read one census return into every table of :data:`tables.SCHEMAS` (incl. ``headers``, ``issues``).

    ``year`` is the reporting year of the folder the file sits in (``census/<year>/``); when given, a header
    for another year is reported. A file that cannot be read yields empty child tables and an error row in
    ``issues``; it never raises.
    """
    return _frames([_read_raw((str(path), year))])


def _read_raw(args: tuple[str, int | None]) -> _Raw:
    """Read one file (a pool job: path and folder year) as far as the picklable hand-over."""
    reader = _ReturnReader(Path(args[0]), args[1])
    reader.read()
    return reader.raw()


# Text per typing batch: a few polars calls per batch instead of per file, while the intermediate columns
# (about 20 bytes a cell) stay near 100 MB however many returns there are.
_BATCH_CHARS = 4_000_000


def _batches(raws: Iterable[_Raw]) -> Iterator[list[_Raw]]:
    """Consecutive files, grouped until a group holds about :data:`_BATCH_CHARS` of text."""
    batch: list[_Raw] = []
    size = 0
    for raw in raws:
        batch.append(raw)
        size += sum(len(text) for text in raw.strs.values())
        if size >= _BATCH_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


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
        parts = [_frames(batch) for batch in _batches(map(_read_raw, jobs))]
    else:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            # typed batch by batch as the workers hand files back: overlaps the parsing, bounds memory
            parts = [_frames(batch) for batch in _batches(pool.map(_read_raw, jobs, chunksize=1))]
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
            "line",
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
