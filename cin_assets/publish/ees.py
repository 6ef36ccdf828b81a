"""EES open data files: a data set's data CSV and its ``.meta.csv``, written atomically and byte-stable.

The data file is the published (protected) frame of every year, newest year first, columns in the order
of the description; every value is written as text exactly as the disclosure stage formatted it, and an
empty cell only ever appears in a geography column that does not apply to the row's level. The metadata
file has one row per filter (except single-valued filters and grouping columns, which EES takes from the
filter they group) and one per indicator, with the EES columns ``col_name, col_type, label,
indicator_grouping, indicator_unit, indicator_dp, filter_hint, filter_grouping_column``.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from cin_assets.datasets.description import DataSet

META_COLUMNS = (
    "col_name",
    "col_type",
    "label",
    "indicator_grouping",
    "indicator_unit",
    "indicator_dp",
    "filter_hint",
    "filter_grouping_column",
)
_FILE_NAME = re.compile(r"^[a-z0-9_-]+$")


def data_file_name(ds: DataSet) -> str:
    return f"{ds.stem}.csv"


def meta_file_name(ds: DataSet) -> str:
    return f"{ds.stem}.meta.csv"


def release_frame(ds: DataSet, years: Mapping[int, pl.DataFrame]) -> pl.DataFrame:
    """One data set's published rows of every year, newest first, in the description's column order."""
    frames = [years[y].select(ds.columns) for y in sorted(years, reverse=True) if years[y].height]
    if not frames:
        return pl.DataFrame(schema={c: pl.String for c in ds.columns})
    out = pl.concat(frames, how="vertical")
    wrong = [c for c, t in out.schema.items() if t != pl.String]
    if wrong:
        raise TypeError(f"{ds.code}: published columns must be text, got non-text {wrong}")
    return out


def meta_frame(ds: DataSet) -> pl.DataFrame:
    """The EES metadata rows of ``ds`` (filters, then indicators), with the optional ``filter_default``
    column when a filter declares a default item."""
    grouping = {f.group for f in ds.filters if f.group}
    rows = [
        {
            "col_name": f.name,
            "col_type": "Filter",
            "label": f.label,
            "indicator_grouping": "",
            "indicator_unit": "",
            "indicator_dp": "",
            "filter_hint": f.hint,
            "filter_grouping_column": f.group or "",
        }
        for f in ds.filters
        if f.name not in grouping and len(f.values) > 1
    ]
    rows += [
        {
            "col_name": i.name,
            "col_type": "Indicator",
            "label": i.label,
            "indicator_grouping": i.grouping,
            "indicator_unit": i.ees_unit,
            "indicator_dp": str(i.decimal_places),
            "filter_hint": "",
            "filter_grouping_column": "",
        }
        for i in ds.indicators
    ]
    meta = pl.DataFrame(rows, schema={c: pl.String for c in META_COLUMNS})
    defaults = {f.name: f.default for f in ds.filters if f.default}
    if defaults:
        meta = meta.with_columns(
            pl.col("col_name").replace_strict(defaults, default="").alias("filter_default")
        )
    return meta


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV, comma separated, ``\\n`` line ends, quoting only where needed, nulls as empty cells."""
    buffer = io.BytesIO()
    frame.write_csv(buffer, line_terminator="\n", quote_style="necessary", null_value="")
    return buffer.getvalue()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file in ``path``'s folder, then rename it over ``path``: readers see
    the old file or the new one, and a failure leaves the old file in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def data_set_files(ds: DataSet, published: pl.DataFrame) -> dict[str, bytes]:
    """The data file and metadata file of ``ds`` (file name -> bytes), after checking the file contract."""
    if not _FILE_NAME.match(ds.stem):
        raise ValueError(f"{ds.code}: file stem {ds.stem!r} must be lower-case letters, digits, '_' or '-'")
    if tuple(published.columns) != ds.columns:
        raise ValueError(
            f"{ds.code}: columns {published.columns} differ from the description {list(ds.columns)}"
        )
    indicators = [i.name for i in ds.indicators]
    blank = published.select(pl.any_horizontal(pl.col(indicators).is_null() | (pl.col(indicators) == "")))
    if published.height and blank.to_series().any():
        raise ValueError(f"{ds.code}: blank indicator cells (every cell needs a value or a symbol)")
    return {data_file_name(ds): csv_bytes(published), meta_file_name(ds): csv_bytes(meta_frame(ds))}


def write_files(folder: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write each file atomically into ``folder``; returns the paths in the order given."""
    paths = []
    for name, data in files.items():
        path = folder / name
        write_bytes_atomic(path, data)
        paths.append(path)
    return paths


def write_data_set(folder: Path, ds: DataSet, published: pl.DataFrame) -> list[Path]:
    """Write ``ds``'s data file and metadata file for the release frame ``published`` into ``folder``."""
    return write_files(folder, data_set_files(ds, published))


_STANDARD_LABELS = {
    "time_period": "Reporting year (the year ending 31 March)",
    "time_identifier": "Time identifier (Reporting year)",
    "geographic_level": "Geographic level: National, Regional or Local authority",
    "country_code": "Country code (ONS)",
    "country_name": "Country name",
    "region_code": "Region code (ONS; Inner or Outer London for London boroughs)",
    "region_name": "Region name",
    "old_la_code": "Local authority code (DfE, 3 digits)",
    "new_la_code": "Local authority code (ONS)",
    "la_name": "Local authority name",
}


def column_labels(ds: DataSet) -> dict[str, str]:
    """Every published column's label: the EES standard columns, then the metadata file's filter and
    indicator labels (so the UI describes the same columns as the ``.meta.csv``)."""
    labels = {**_STANDARD_LABELS, **{f.name: f.label for f in ds.filters}}
    if ds.category:
        labels["category"] = f'Category (always "{ds.category}")'
    labels |= {i.name: i.label for i in ds.indicators}
    return {c: labels.get(c, "") for c in ds.columns}
