"""The release's data guidance (``data_guidance.md``), generated from the same descriptions as the files.

Every file, column, unit, decimal places, definition, footnote and symbol in the guidance comes from the
:class:`~cin_assets.datasets.description.DataSet` descriptions and the disclosure policy, so the guidance
cannot drift from what the files contain. The text is deterministic (no dates or timings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from cin_assets.datasets.description import DataSet, Indicator
from cin_assets.publish.ees import data_file_name, meta_file_name

_UNIT_NAMES = {
    "count": "number",
    "percent": "percentage",
    "rate": "rate per 10,000 children aged 0 to 17",
    "days": "working days",
    "population": "number of people",
}


class Symbols(Protocol):
    @property
    def threshold(self) -> int: ...
    @property
    def rounding_base(self) -> int: ...
    @property
    def suppressed(self) -> str: ...
    @property
    def not_available(self) -> str: ...
    @property
    def not_applicable(self) -> str: ...
    @property
    def protection(self) -> int: ...


def _secondary_rule(protection: int) -> str:
    """What secondary suppression guarantees under the release's rule (cin_assets.disclosure.config)."""
    reader = "from the published figures, reading every file of the release together"
    if protection <= 1:
        return (
            f"wherever a suppressed count could otherwise be worked out exactly {reader} (a rounded England "
            "or regional total may narrow a suppressed count, but never to a single value)"
        )
    return f"wherever a suppressed count could otherwise be worked out, or shown to be below {protection}, {reader}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _years(ds: DataSet) -> str:
    first, last = ds.first_year + ds.period_offset, ds.last_year + ds.period_offset
    span = str(first) if first == last else f"{first} to {last}"
    return f"{span} ({ds.time_identifier.lower()})"


def _levels(ds: DataSet) -> str:
    if ds.geography == "national":
        return "National (England)"
    return "National, Regional (9 regions plus Inner and Outer London), Local authority"


def _published_as(datasets: Mapping[str, DataSet]) -> dict[str, list[tuple[str, str]]]:
    """Each count statistic -> the (data set, column) pairs that publish it: the same figure, published
    identically, which a reader comparing files should know about. Summary files (one row per figure of
    other files) say what each row republishes instead."""
    out: dict[str, list[tuple[str, str]]] = {}
    for ds in datasets.values():
        for ind in () if ds.summary else ds.indicators:
            if ind.unit == "count":
                out.setdefault(ind.measure_id, []).append((ds.code, ind.name))
    return out


def _definition(ind: Indicator, ds: DataSet, published_as: Mapping[str, list[tuple[str, str]]]) -> str:
    text = ind.definition
    if ind.unit == "count" and not ds.summary:
        others = [
            f"{code} `{name}`" for code, name in published_as.get(ind.measure_id, []) if code != ds.code
        ]
        if others:
            text += f" Published identically in {', '.join(others)} (where year, area and breakdown match)."
    if ind.first_year is not None:
        text += f" Available from {ind.first_year}."
    return text


def _dataset_section(
    ds: DataSet, rows: int | None, published_as: Mapping[str, list[tuple[str, str]]]
) -> list[str]:
    lines = [
        f"### {ds.code}: {ds.title}",
        "",
        ds.description,
        "",
        f"- Data file: `{data_file_name(ds)}`; metadata file: `{meta_file_name(ds)}`",
        f"- Geographic levels: {_levels(ds)}",
        f"- Time periods: {_years(ds)}",
    ]
    if rows is not None:
        lines.append(f"- Rows: {rows:,}")
    if ds.category:
        lines.append(f'- `category`: always "{ds.category}"')
    for f in ds.filters:
        grouped = f" (grouped by `{f.group}`)" if f.group else ""
        total = f'; the total is "{f.total}"' if f.total else ""
        total += f'; the default item is "{f.default}"' if f.default else ""
        items = "; ".join(f'"{v}"' for v in f.values)
        lines.append(f"- Filter `{f.name}` ({f.label}){grouped}{total}: {items}")
    lines += ["", "| Column | Label | Unit | Decimal places | Definition |", "|---|---|---|---|---|"]
    for ind in ds.indicators:
        lines.append(
            f"| `{ind.name}` | {_cell(ind.label)} | {_UNIT_NAMES[ind.unit]} | {ind.decimal_places} "
            f"| {_cell(_definition(ind, ds, published_as))} |"
        )
    sums = [f"`{s.total}` = {' + '.join(f'`{p}`' for p in s.parts)}" for s in ds.column_sums]
    sums += [
        f"{', '.join(f'{k} = {v}' for k, v in s.total.items())} is the sum of the rows "
        + "; ".join(", ".join(f"{k} = {v}" for k, v in p.items()) for p in s.parts)
        for s in ds.row_sums
    ]
    if sums:
        lines += ["", "Additive structure (on unrounded, unsuppressed values): " + ". ".join(sums) + "."]
    if ds.summary:
        lines += ["", "Each row republishes an England figure of another data set:", ""]
        for item in ds.summary:
            where = ", ".join(item.values.values())
            pct = f" (percentage of `{item.percent_of}`)" if item.percent_of else ""
            lines.append(f"- {where}: {item.source} `{item.column}`{pct}")
    if ds.footnotes:
        lines += ["", "Footnotes:", ""]
        lines += [f"{n}. {note}" for n, note in enumerate(ds.footnotes, start=1)]
    return [*lines, ""]


def data_guidance(
    datasets: Mapping[str, DataSet],
    symbols: Symbols,
    rows: Mapping[str, int] | None = None,
    returns: Sequence[str] = (),
) -> str:
    """The data guidance document (markdown) for the release built from ``datasets``: the descriptions as
    published (names, files and years of the release), and ``returns``: what was counted (validation
    policy, declared exceptions), one note each. Public text only: how each column list was established is
    in the developer notes (``docs/data_set_provenance.md``)."""
    rows = rows or {}
    latest = max(ds.last_year for ds in datasets.values())
    population = datasets.get("P")
    population_file = f" `{data_file_name(population)}`" if population else ""
    lines = [
        f"# Characteristics of children in need: data guidance, reporting year {latest}",
        "",
        "This guidance describes the open data files of the release: their coverage, conventions and every "
        "column. It is generated from the same descriptions that build the files.",
        "",
        "## Coverage",
        "",
        "The statistics are built from child-level data in the children in need census, one return per local "
        "authority and reporting year. Reporting year Y runs from 1 April Y-1 to 31 March Y (2020 = 1 April "
        "2019 to 31 March 2020). The files cover children in need, referrals, assessments and the factors "
        "identified at their end, section 47 enquiries and initial child protection conferences, and child "
        "protection plans, for England, its regions and local authorities.",
        "",
        "## File formats and conventions",
        "",
        "Every file is a UTF-8 CSV with a `.meta.csv` metadata file in the Explore Education Statistics open "
        "data format. Local authority files have one row per year for England, each of the 9 regions, Inner "
        "and Outer London (as extra regional rows) and every local authority that made a return that year; "
        "London boroughs carry the Inner or Outer London code as their region. Rows are newest year first.",
        "",
        "### Symbols",
        "",
        f"- `{symbols.suppressed}`: confidential. Any count from 1 to {symbols.threshold} is suppressed, with "
        f"secondary suppression {_secondary_rule(symbols.protection)}; a percentage, rate or duration "
        "computed from a suppressed count is also suppressed.",
        f"- `{symbols.not_available}`: not available (the local authority could not return the item, the "
        "census did not collect it, or the look-back it needs is missing).",
        f"- `{symbols.not_applicable}`: not applicable (e.g. a percentage of a total of 0).",
        "- `0`: a true zero.",
        "",
        "### Rounding",
        "",
        f"- England and regional counts are rounded to the nearest {symbols.rounding_base} (halves up), so "
        "they may not add up; local authority counts are not rounded.",
        "- Percentages and rates per 10,000 are rounded to one decimal place (halves up) from unrounded "
        "counts; durations in working days are whole numbers.",
        "- Rates per 10,000 children use the ONS mid-year population estimate of children aged 0 to 17 for "
        f"the mid-year before the end of the reporting year, as published in the supporting file{population_file}.",
        "",
        "### Returns counted",
        "",
        *(f"- {note}" for note in returns or ("Not recorded for this release.",)),
        "",
        "## Data files",
        "",
        "| Code | File | Title | Years | Levels |",
        "|---|---|---|---|---|",
    ]
    for ds in datasets.values():
        lines.append(
            f"| {ds.code} | `{data_file_name(ds)}` | {_cell(ds.title)} | {_years(ds)} | "
            f"{'National' if ds.geography == 'national' else 'National, Regional, LA'} |"
        )
    lines += ["", "## Files and columns", ""]
    published_as = _published_as(datasets)
    for ds in datasets.values():
        lines += _dataset_section(ds, rows.get(ds.code), published_as)
    return "\n".join(lines).rstrip() + "\n"
