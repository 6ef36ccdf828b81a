"""A whole (reduced) release year: every guarantee holds across 28 linked data sets."""

from __future__ import annotations

import numpy as np
import polars as pl

from cin_assets.disclosure import (
    check_year,
    disclosure_config,
    protect_year,
    summary_metadata,
    suppression_summary,
)
from cin_assets.disclosure.model import build_model
from cin_assets.disclosure.suppress import suppress


def test_every_check_passes(small_release) -> None:
    outcomes = check_year(small_release.protected.published, small_release.datasets)
    assert {o.name for o in outcomes} == {
        "schema",
        "ees_names",
        "linked_cells",
        "additive_groups",
        "lp_audit",
    }
    failed = {(o.name, o.dataset): o.failures.head(3).rows() for o in outcomes if not o.passed}
    assert not failed
    audit = next(o for o in outcomes if o.name == "lp_audit")
    assert audit.metadata["suppressed_cells"] > 0
    assert audit.metadata["populations_known"] > 0


def test_primary_rule_zeros_and_symbols(small_release) -> None:
    cfg_symbols = {"c", ":", "z"}
    for code, frame in small_release.frames.items():
        ds = small_release.datasets[code]
        published = small_release.protected.published[code]
        assert published.columns == list(ds.columns)
        for ind in ds.counts():
            truth = frame.get_column(ind.name)
            shown = published.get_column(ind.name)
            small = truth.is_between(1, 5).fill_null(False)
            assert (shown.filter(small) == "c").all(), (code, ind.name)
            assert (shown.filter(truth == 0) == "0").all(), (code, ind.name)
            assert (shown.filter(truth.is_null()) == ":").all(), (code, ind.name)
        for name in published.columns[len(ds.geography_columns) + len(ds.filter_columns) :]:
            values = published.get_column(name)
            assert values.null_count() == 0
            assert (values.str.contains(r"^\d+(\.\d)?$") | values.is_in(list(cfg_symbols))).all(), (
                code,
                name,
            )


def test_unavailable_la_is_published_as_not_available(small_release) -> None:
    hackney = small_release.protected.published["B1"].filter(pl.col("old_la_code") == "204")
    assert set(hackney.row(0)[10:]) == {":"}


def test_england_totals_are_never_secondary(small_release) -> None:
    model = build_model(small_release.frames, small_release.datasets, _config())
    pattern = suppress(model)
    assert not (pattern.secondary & model.england_total).any()  # at realistic sizes: never needed
    assert small_release.protected.stats["england_totals_hidden"] == 0
    assert not (pattern.suppressed & (model.value == 0)).any()


def test_same_input_same_pattern_and_idempotent(small_release) -> None:
    again = protect_year(small_release.frames, small_release.datasets)
    for code, frame in small_release.protected.published.items():
        assert again.published[code].equals(frame), code
    assert again.report.equals(small_release.protected.report)
    model = build_model(small_release.frames, small_release.datasets, _config())
    pattern = suppress(model)
    rerun = suppress(model, initial=pattern.suppressed)
    assert np.array_equal(rerun.suppressed, pattern.suppressed)
    assert (rerun.reason_cell[pattern.secondary] == -1).all()  # nothing new was needed


def test_order_of_the_frames_does_not_matter(small_release) -> None:
    reversed_frames = dict(reversed(list(small_release.frames.items())))
    again = protect_year(reversed_frames, small_release.datasets)
    assert again.report.equals(small_release.protected.report)


def test_report_explains_every_c(small_release) -> None:
    report = small_release.protected.report
    counted = sum(
        int(
            (frame.select(pl.all().exclude(_geo_and_filters(small_release.datasets[code]))) == "c")
            .sum_horizontal()
            .sum()
        )
        for code, frame in small_release.protected.published.items()
    )
    assert report.height == counted
    assert set(report.get_column("kind")) == {"primary", "secondary", "derived"}
    secondary = report.filter(pl.col("kind") == "secondary")
    assert (secondary.get_column("protects").str.contains("protects")).all()
    assert (report.filter(pl.col("kind") == "primary").get_column("protects") == "").all()
    derived = report.filter(pl.col("kind") == "derived")
    assert derived.get_column("protects").str.starts_with("computed from suppressed").all()


def test_summary_per_file(small_release) -> None:
    summary = suppression_summary(small_release.protected, small_release.datasets)
    assert summary.height == 28
    report = small_release.protected.report
    assert summary.get_column("suppressed").sum() == report.height
    row = summary_metadata(summary, "B6")
    assert row["primary"] == report.filter((pl.col("dataset") == "B6") & (pl.col("kind") == "primary")).height
    assert 0 <= row["suppressed_percent"] <= 100


def _geo_and_filters(ds) -> list[str]:
    return [*ds.geography_columns, *ds.filter_columns]


def _config():
    from cin_assets.disclosure import DisclosureConfig

    return DisclosureConfig()


def test_dfes_rule_narrows_but_never_pins_and_the_strict_rule_does_neither(small_release) -> None:
    """The default (DfE's) pattern of a whole year passes its own audit: no cell is recovered exactly. The
    strict audit finds cells it narrows below 6 (rounded regional totals and two primaries hiding each
    other, as in DfE's releases), none pinned; the strict rule hides more cells and passes that audit."""
    strict = disclosure_config("strict")
    dfe = small_release.protected
    assert small_release.protected.stats["primary"] > 0
    narrowed = next(
        o for o in check_year(dfe.published, small_release.datasets, strict) if o.name == "lp_audit"
    )
    rules = set(narrowed.failures["rule"])
    assert rules == {"protection_level"}, rules
    protected = protect_year(small_release.frames, small_release.datasets, strict)
    assert protected.stats["secondary"] > dfe.stats["secondary"]
    failed = [o.name for o in check_year(protected.published, small_release.datasets, strict) if not o.passed]
    assert not failed
