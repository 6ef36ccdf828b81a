"""Time-series charts of the headline measures, England and by region, for the published assets' metadata.

A statistician reading a published table in the Dagster UI should see its trend next to it. The charts are
drawn from the release's own frames (published strings or unprotected numbers: symbols such as ``c`` or
``x`` become gaps), with matplotlib's object API on an Agg canvas (no pyplot, no global backend), and are
byte-for-byte deterministic for the same frames: fixed size, fonts, colours, SVG hash salt and no dates in
the file metadata. :func:`markdown_image` embeds one in Markdown as a data URI, which the Dagster 1.13 UI
renders in the metadata entry's "Show Markdown" dialog (verified in Chromium).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import matplotlib as mpl
import polars as pl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from cin_assets.census.geography import ENGLAND_NAME, NATIONAL, REGIONAL

ImageFormat = Literal["png", "svg"]

_REGION_PREFIX = "E12"  # the 9 English regions (EES also publishes Inner/Outer London as E13 rows)
_MIME = {"png": "image/png", "svg": "image/svg+xml"}
_DPI = 80


@dataclass(frozen=True)
class Headline:
    """One headline measure: the data set, its indicator column and the panel title."""

    code: str
    indicator: str
    title: str


HEADLINES: tuple[Headline, ...] = (
    Headline("C1", "Referrals_rate", "Referrals"),
    Headline("B1", "At31_episodes_rate", "Children in need at 31 March"),
    Headline("C4", "Section47_rate", "Section 47 enquiries"),
    Headline("D1", "CPP_At31_rate", "Child protection plans at 31 March"),
)
HEADLINE_CODES: tuple[str, ...] = tuple(h.code for h in HEADLINES)

SERIES_SCHEMA = {
    "code": pl.String,
    "title": pl.String,
    "year": pl.Int32,
    "geography": pl.String,
    "value": pl.Float64,
}


def headline_series(
    frames: Mapping[str, pl.DataFrame], codes: Sequence[str] = HEADLINE_CODES
) -> pl.DataFrame:
    """The England and regional values of each headline measure in ``frames`` (data set code -> rows of
    every year), long format: code, title, year, geography, value (null where not published)."""
    parts = []
    for headline in HEADLINES:
        if headline.code not in codes or headline.code not in frames:
            continue
        frame = frames[headline.code]
        england = pl.col("geographic_level") == NATIONAL
        region = (pl.col("geographic_level") == REGIONAL) & pl.col("region_code").str.starts_with(
            _REGION_PREFIX
        )
        parts.append(
            frame.filter(england | region).select(
                code=pl.lit(headline.code),
                title=pl.lit(headline.title),
                year=pl.col("time_period").cast(pl.String).str.slice(0, 4).cast(pl.Int32),
                geography=pl.when(england).then(pl.lit(ENGLAND_NAME)).otherwise(pl.col("region_name")),
                value=pl.col(headline.indicator).cast(pl.String).cast(pl.Float64, strict=False),
            )
        )
    if not parts:
        return pl.DataFrame(schema=SERIES_SCHEMA)
    return pl.concat(parts).cast(SERIES_SCHEMA).sort("code", "geography", "year")


def headline_chart(
    frames: Mapping[str, pl.DataFrame], codes: Sequence[str] = HEADLINE_CODES, fmt: ImageFormat = "png"
) -> bytes:
    """One panel per headline measure (rate per 10,000 children by year): England in bold, each region
    in its own colour. Raises ``ValueError`` when none of ``codes`` is in ``frames``."""
    series = headline_series(frames, codes)
    if series.is_empty():
        raise ValueError(f"no headline measure of {', '.join(codes)} in the frames given")
    panels = [h for h in HEADLINES if h.code in set(series["code"])]
    regions = sorted(set(series["geography"]) - {ENGLAND_NAME})
    colours = dict(
        zip(regions, cast(list, cast(ListedColormap, mpl.colormaps["tab10"]).colors), strict=False)
    )
    years = sorted(set(series["year"]))
    columns = 1 if len(panels) == 1 else 2
    rows = -(-len(panels) // columns)
    with mpl.rc_context({"svg.hashsalt": "cin_assets", "svg.fonttype": "path", "font.family": "DejaVu Sans"}):
        figure = Figure(figsize=(max(6.4, 4.4 * columns), 2.9 * rows + 1.1), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
        for ax, headline in zip(axes, panels, strict=False):
            panel = series.filter(pl.col("code") == headline.code)
            for name in regions:
                _line(ax, panel, name, colour=colours[name], width=1.0, marker=None)
            _line(ax, panel, ENGLAND_NAME, colour="black", width=2.4, marker="o")
            ax.set_title(f"{headline.title} ({headline.code})", fontsize=10)
            ax.set_ylabel("per 10,000 children", fontsize=8)
            ax.set_xticks(years, [str(y) for y in years], fontsize=7, rotation=45)
            ax.tick_params(axis="y", labelsize=7)
            ax.grid(alpha=0.3)
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: (labels[i] != ENGLAND_NAME, labels[i]))
        figure.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            loc="outside lower center",
            ncols=3 + columns,
            fontsize=7,
        )
        figure.suptitle(f"England and regions, {years[0]} to {years[-1]}", fontsize=11)
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _line(
    ax: Axes, panel: pl.DataFrame, geography: str, colour: object, width: float, marker: str | None
) -> None:
    """One geography's series; a value not published is NaN, so the line shows a gap there."""
    rows = panel.filter(pl.col("geography") == geography).sort("year")
    if rows.is_empty():
        return
    ax.plot(
        rows["year"].to_numpy(),
        rows["value"].fill_null(float("nan")).to_numpy(),
        label=geography,
        color=colour,
        linewidth=width,
        marker=marker,
        markersize=3.5,
    )


def markdown_image(image: bytes, fmt: ImageFormat, alt: str) -> str:
    """Markdown showing ``image`` inline as a data URI (no file or server needed to view it)."""
    return f"![{alt}](data:{_MIME[fmt]};base64,{base64.b64encode(image).decode('ascii')})"


def headline_markdown(
    frames: Mapping[str, pl.DataFrame], codes: Sequence[str] = HEADLINE_CODES, fmt: ImageFormat = "png"
) -> str:
    """The chart with a one-line caption, ready for a ``MetadataValue.md`` entry."""
    titles = "; ".join(f"{h.title} ({h.code})" for h in HEADLINES if h.code in codes and h.code in frames)
    caption = (
        f"{titles}: rates per 10,000 children aged 0-17, England (bold) and the 9 regions, from the "
        "published values; gaps are values not published (suppressed or not available)."
    )
    return f"{markdown_image(headline_chart(frames, codes, fmt), fmt, 'Headline measures over time')}\n\n{caption}\n"
