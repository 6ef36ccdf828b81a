"""Headline trend charts: which rows they draw, deterministic images, and Markdown a UI can render."""

import base64
import re

import polars as pl
import pytest

from cin_assets.datasets.catalogue import DATASETS
from cin_assets.publish.charts import (
    HEADLINES,
    headline_chart,
    headline_markdown,
    headline_series,
    markdown_image,
)

YEARS = range(2013, 2021)
REGIONS = {f"E1200000{i}": f"Region {i}" for i in range(1, 10)}


def _frame(indicator: str, published: bool) -> pl.DataFrame:
    """England, the 9 regions, Inner London (E13) and one LA per year, like an LA-level release frame."""
    rows = []
    for year in YEARS:
        rows.append((str(year), "National", None, None, 500.0 + year - 2013))
        rows += [
            (str(year), "Regional", code, name, 400.0 + 10 * i)
            for i, (code, name) in enumerate(REGIONS.items())
        ]
        rows.append((str(year), "Regional", "E13000001", "Inner London", 999.0))
        rows.append((str(year), "Local authority", "E12000001", "Region 1", 9999.0))
    frame = pl.DataFrame(
        rows,
        schema=["time_period", "geographic_level", "region_code", "region_name", indicator],
        orient="row",
    )
    if published:  # strings, with one suppressed and one not-available value
        frame = frame.with_columns(pl.col(indicator).cast(pl.String))
        frame[3, indicator] = "c"
        frame[14, indicator] = "x"
    return frame


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return {h.code: _frame(h.indicator, published=h.code != "D1") for h in HEADLINES}


def test_series_keeps_england_and_the_nine_regions_with_symbols_as_gaps(frames) -> None:
    series = headline_series(frames)
    assert set(series["code"]) == {"B1", "C1", "C4", "D1"}
    c1 = series.filter(pl.col("code") == "C1")
    assert c1.height == len(YEARS) * 10
    assert set(c1["geography"]) == {"England", *REGIONS.values()}
    assert (c1["year"].min(), c1["year"].max()) == (2013, 2020)
    england = c1.filter(pl.col("geography") == "England").sort("year")
    assert england["value"].to_list()[:3] == [500.0, 501.0, 502.0]
    assert c1["value"].null_count() == 2  # "c" and "x"
    assert series.filter(pl.col("code") == "D1")["value"].null_count() == 0  # unprotected numbers
    assert 999.0 not in c1["value"].to_list() and 9999.0 not in c1["value"].to_list()


def test_series_of_other_codes_only(frames) -> None:
    assert set(headline_series(frames, codes=("B1",))["code"]) == {"B1"}
    assert headline_series({"A1": pl.DataFrame()}).is_empty()


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_charts_are_deterministic_and_depend_on_the_data(frames, fmt) -> None:
    first = headline_chart(frames, fmt=fmt)
    assert first == headline_chart(frames, fmt=fmt)
    changed = dict(frames, C1=frames["C1"].with_columns(pl.lit("1.0").alias("Referrals_rate")))
    assert headline_chart(changed, fmt=fmt) != first
    if fmt == "png":
        assert first.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        text = first.decode()
        assert text.lstrip().startswith("<?xml") and "<svg" in text
        assert not re.search(r"<dc:date>", text), "no timestamp in the file"


def test_one_panel_chart_is_smaller_than_four(frames) -> None:
    single = headline_chart(frames, codes=("B1",))
    assert single.startswith(b"\x89PNG") and len(single) < len(headline_chart(frames))
    with pytest.raises(ValueError, match="no headline measure of A1"):
        headline_chart(frames, codes=("A1",))


def test_markdown_embeds_the_image_as_a_data_uri(frames) -> None:
    image = headline_chart(frames, codes=("C1",))
    markdown = markdown_image(image, "png", "Referrals over time")
    found = re.fullmatch(r"!\[Referrals over time\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert found and base64.b64decode(found[1]) == image
    assert markdown_image(b"<svg/>", "svg", "x").startswith("![x](data:image/svg+xml;base64,")
    caption = headline_markdown(frames, codes=("C1", "D1"))
    assert caption.rstrip().endswith("(suppressed or not available).")
    assert "Referrals (C1); Child protection plans at 31 March (D1): rates per 10,000" in caption
    assert "Children in need" not in caption


def test_headlines_are_published_rates_of_la_level_data_sets() -> None:
    for headline in HEADLINES:
        ds = DATASETS[headline.code]
        assert ds.geography == "la"
        assert ds.indicator(headline.indicator).unit == "rate"
