"""How close a (synthetic) census's figures are to the real published ones: every real figure in the
reference folder against the pipeline's value of the same data set, column, year, geography and filters.

Real figures come from ``published_la_indicators.csv`` (B1, C1, C4, D3, D5), ``published_assessment_factors.csv``
(C3), the LAIT indicators that are one of our columns or a ratio of them (:data:`LAIT`),
``cpp_ending_derived.csv`` (D1 CPPs ending, derived) and ``national_figures.csv`` (national mixes from the
2020 catalogue previews). Ours are compared as DfE would publish them: England and regional counts rounded
to the nearest 10, percentages and rates to 1 dp, days to whole days. Real ``c``/``x``/``z``/``:`` cells
are not compared; :func:`suppression` compares the ``c`` pattern itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cin_assets import reference
from cin_assets.census.geography import LOCAL, NATIONAL
from cin_assets.datasets.catalogue.common import UNKNOWN_GENDER
from cin_assets.datasets.description import DataSet

KEYS = ("dataset", "column", "geographic_level", "region_code", "old_la_code", "filters")
_EES_SOURCES = {"E23B1": "B1", "E23C1": "C1", "E25C4": "C4", "E23D3": "D3", "E23D5": "D5"}
_SYMBOLS = ("c", "x", "z", ":", "u", "-", "")


@dataclass(frozen=True)
class Lait:
    """A LAIT indicator as one of our figures: ``100 * sum(numerator) / denominator`` of a data set's row
    (percent), or the plain ``numerator`` column (count)."""

    dataset: str
    numerator: tuple[str, ...]
    denominator: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.numerator, *((self.denominator,) if self.denominator else ()))


def _lait_expr(lait: Lait) -> pl.Expr:
    total = pl.sum_horizontal(lait.numerator)
    return 100 * total / pl.col(lait.denominator) if lait.denominator else total


# LAIT indicators that are one of our published columns or a percentage of them (rates are skipped: LAIT
# divides by the revised population, the 2020 release by the original one).
LAIT: Mapping[str, Lait] = {
    "CINTime3months": Lait("B4", ("3_months_or_less",), "At31_episodes"),
    "CINTime3-6": Lait("B4", ("more_than_3_months_6_months",), "At31_episodes"),
    "CINTime6-1": Lait("B4", ("more_than_6_months_less_than_1_year",), "At31_episodes"),
    "CINTime1-2": Lait("B4", ("1_year_less_than_2_years",), "At31_episodes"),
    "CINTime2more": Lait("B4", ("2_years_or_more",), "At31_episodes"),
    "CINCease3months": Lait("B5", ("3_months_or_less",), "Ended_episodes"),
    "CINCease3-6": Lait("B5", ("more_than_3_months_6_months",), "Ended_episodes"),
    "CINCease6-1": Lait("B5", ("more_than_6_months_less_than_1_year",), "Ended_episodes"),
    "CINCease1-2": Lait("B5", ("1_year_less_than_2_years",), "Ended_episodes"),
    "CINCease2more": Lait("B5", ("2years+",), "Ended_episodes"),
    "Continue_Assess_Comp": Lait(
        "C2",
        ("Same_day", "1-10_days", "11-20_days", "21-30_days", "31-40_days", "41-45_days"),
        "Assessments_completed",
    ),
    "CP_conf_15days": Lait("C4", ("Duration_0-10_days", "Duration_11-15_days"), "ICPC_with_section47"),
    "RefBySource_Police_%": Lait("C5", ("Police",), "Referrals"),
    "RefBySource_Schl_%": Lait("C5", ("Schools",), "Referrals"),
    "RefBySource_HealthServ_%": Lait("C5", ("Health_Services",), "Referrals"),
    "CPP_31March_3MnthorMore": Lait("D6", ("CPP_At31_3_months_or_more",)),
    "CPP_Reviewed_InReqTimeScl": Lait("D6", ("Reviewed_within_timescales",)),
    "RevCP": Lait("D6", ("Reviewed_within_timescales",), "CPP_At31_3_months_or_more"),
    "CPRDuration": Lait("D7", ("2_years+",)),
    "CPPlans2yrs": Lait("D7", ("2_years+",), "CPP_end"),
}


def _geo(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("region_code", "old_la_code").fill_null(""))


def real_figures(year: int, datasets: Mapping[str, DataSet], ref: Path | None = None) -> pl.DataFrame:
    """Every real figure of reporting ``year`` in the reference folder: source_id, the :data:`KEYS`,
    ``unit`` (of our column; ``percent`` for LAIT ratios) and ``value`` as published (a string)."""
    root = ref or reference.reference_dir()
    when = pl.col("time_period") == str(year)
    cols = ["source_id", *KEYS, "value"]
    ees = (
        pl.read_csv(root / "published_la_indicators.csv", infer_schema=False)
        .filter(when)
        .with_columns(
            pl.col("source_id").replace_strict(_EES_SOURCES).alias("dataset"),
            pl.col("indicator").alias("column"),
            pl.lit("").alias("filters"),
        )
    )
    factors = (
        pl.read_csv(root / "published_assessment_factors.csv", infer_schema=False)
        .filter(when)
        .with_columns(
            pl.lit("C3").alias("dataset"), pl.col("indicator").alias("column"), pl.lit("").alias("filters")
        )
    )
    lait = (
        pl.read_csv(root / "lait_indicators.csv", infer_schema=False)
        .filter(when & pl.col("indicator").is_in(list(LAIT)))
        .with_columns(
            pl.col("indicator").replace_strict({k: v.dataset for k, v in LAIT.items()}).alias("dataset"),
            ("LAIT:" + pl.col("indicator")).alias("column"),
            pl.lit("").alias("filters"),
        )
    )
    ending = (
        pl.read_csv(root / "cpp_ending_derived.csv", infer_schema=False)
        .filter(when)
        .with_columns(
            pl.lit("LAIT-derived").alias("source_id"),
            pl.lit("D1").alias("dataset"),
            pl.lit("CPP_end").alias("column"),
            pl.lit("").alias("filters"),
            pl.col("cpp_end_derived").cast(pl.Float64).round(0).cast(pl.Int64).cast(pl.String).alias("value"),
        )
    )
    national = pl.read_csv(root / "national_figures.csv", infer_schema=False).filter(when)
    b6 = [i.name for i in datasets["B6"].counts()][1:] if "B6" in datasets else []
    pairs = {f"pair{n + 1}": name for n, name in enumerate(b6)}
    pairs |= {f"{k}_percent": f"{v}_percent" for k, v in pairs.items()}
    national = national.with_columns(
        pl.col("indicator").replace(pairs).alias("column"),
        # DfE's 2020 files spell the unknown-gender item two ways (A4 "Unknown or Indeterminate gender",
        # A5 "Unknown/Indeterminate gender"); the published files use one label (catalogue.common)
        pl.col("filters")
        .fill_null("")
        .str.replace(r"(?i)=unknown(/| or )indeterminate gender", f"={UNKNOWN_GENDER}"),
    ).with_columns(pl.lit(None, dtype=pl.String).alias("old_la_code"))
    frames = [_geo(f).select(cols) for f in (ees, factors, lait, ending, national)]
    real = pl.concat(frames).filter(pl.col("dataset").is_in(list(datasets)))
    units = {(code, i.name): i.unit for code, ds in datasets.items() for i in ds.indicators}
    unit = [
        "percent" if c.startswith("LAIT:") and LAIT[c[5:]].denominator else units.get((d, c), "count")
        for d, c in zip(real["dataset"], real["column"], strict=True)
    ]
    return real.with_columns(pl.Series("unit", unit, dtype=pl.String))


def _filters(ds: DataSet) -> pl.Expr:
    if not ds.filters or ds.geography == "la":
        return pl.lit("")
    return pl.concat_str([pl.lit(f"{f.name}=") + pl.col(f.name) for f in ds.filters], separator=";")


def our_figures(frames: Mapping[str, pl.DataFrame], datasets: Mapping[str, DataSet]) -> pl.DataFrame:
    """Our unprotected figures in the same long shape: the :data:`KEYS` and ``ours`` (Float64), including
    the LAIT ratios of :data:`LAIT` (column ``LAIT:<indicator>``)."""
    parts = []
    for code, frame in frames.items():
        ds = datasets[code]
        if frame.is_empty() or ds.summary:
            continue
        base = _geo(
            frame.with_columns(
                *(
                    pl.lit(None, dtype=pl.String).alias(c)
                    for c in ("region_code", "old_la_code")
                    if c not in frame.columns
                ),
            )
        ).with_columns(pl.lit(code).alias("dataset"), _filters(ds).alias("filters"))
        derived = [
            _lait_expr(lait).alias(f"LAIT:{name}")
            for name, lait in LAIT.items()
            if lait.dataset == code and all(c in frame.columns for c in lait.columns)
        ]
        values = [i.name for i in ds.indicators]
        wide = base.with_columns(derived).select(
            "dataset", "geographic_level", "region_code", "old_la_code", "filters",
            *(pl.col(c).cast(pl.Float64) for c in values + [d.meta.output_name() for d in derived]),
        )  # fmt: skip
        parts.append(
            wide.unpivot(
                index=["dataset", "geographic_level", "region_code", "old_la_code", "filters"],
                variable_name="column",
                value_name="ours",
            )
        )
    return pl.concat(parts).select(*KEYS, "ours")


def _published_value(unit: pl.Expr, level: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Our value as DfE would publish it (half up, as the release rounds)."""
    ten = ((value + 5) / 10).floor() * 10
    return (
        pl.when((unit == "count") & (level != LOCAL))
        .then(ten)
        .when(unit.is_in(["percent", "rate"]))
        .then((value * 10 + 0.5 + 1e-9).floor() / 10)
        .otherwise((value + 0.5).floor())
    )


def compare(real: pl.DataFrame, ours: pl.DataFrame) -> pl.DataFrame:
    """One row per real figure with a number: ours (unrounded and as published), ``error`` (published
    ours minus real), ``rel_error`` (of real; 0 when both are 0), ``exact``, ``within_2pct``; sorted by
    absolute relative error, worst first. ``status`` says ``compared`` or ``missing`` (no value of ours)."""
    numeric = real.with_columns(pl.col("value").cast(pl.Float64, strict=False).alias("real")).filter(
        pl.col("real").is_not_null()
    )
    joined = numeric.join(ours, on=list(KEYS), how="left")
    published = _published_value(pl.col("unit"), pl.col("geographic_level"), pl.col("ours")).round(1)
    out = joined.with_columns(published.alias("ours_published")).with_columns(
        (pl.col("ours_published") - pl.col("real")).alias("error"),
    )
    rel = (
        pl.when(pl.col("real") != 0)
        .then(pl.col("error") / pl.col("real"))
        .when(pl.col("error") == 0)
        .then(0.0)
        .otherwise(float("inf"))
    )
    out = out.with_columns(
        rel.alias("rel_error"),
        pl.when(pl.col("ours").is_null())
        .then(pl.lit("missing"))
        .otherwise(pl.lit("compared"))
        .alias("status"),
    ).with_columns(
        (pl.col("error").abs() < 1e-6).alias("exact"),
        (pl.col("rel_error").abs() <= 0.02).alias("within_2pct"),
    )
    return out.select(
        "source_id", *KEYS, "unit", "real", "ours", "ours_published", "error", "rel_error", "exact", "within_2pct",
        "status",
    ).sort(pl.col("rel_error").abs(), descending=True, nulls_last=True)  # fmt: skip


def summary(comparison: pl.DataFrame) -> pl.DataFrame:
    """Per data set: figures compared, exact, within 2%, missing, the LA-level median absolute relative
    error of counts, and the worst figure (column, geography, real, ours, relative error)."""
    done = comparison.filter(pl.col("status") == "compared")
    worst = (
        done.sort(pl.col("rel_error").abs(), descending=True)
        .group_by("dataset", maintain_order=True)
        .first()
        .select(
            "dataset",
            pl.format(
                "{} {}{} real {} ours {} ({}%)",
                "column",
                pl.col("geographic_level").replace({LOCAL: "LA", NATIONAL: "England"}),
                pl.when(pl.col("old_la_code") != "")
                .then(" " + pl.col("old_la_code"))
                .when(pl.col("region_code") != "")
                .then(" " + pl.col("region_code"))
                .otherwise(pl.lit("")),
                pl.col("real").round(1),
                pl.col("ours_published").round(1),
                (100 * pl.col("rel_error")).round(1),
            ).alias("worst"),
        )
    )
    la_counts = done.filter((pl.col("geographic_level") == LOCAL) & (pl.col("unit") == "count"))
    median = la_counts.group_by("dataset").agg(
        (100 * pl.col("rel_error").abs().filter(pl.col("rel_error").is_finite()).median())
        .round(1)
        .alias("la_median_abs_pct")
    )
    counts = comparison.group_by("dataset").agg(
        (pl.col("status") == "compared").sum().alias("compared"),
        (pl.col("exact") & (pl.col("status") == "compared")).sum().alias("exact"),
        (pl.col("within_2pct") & (pl.col("status") == "compared")).sum().alias("within_2pct"),
        (pl.col("status") == "missing").sum().alias("missing"),
    )
    return counts.join(median, on="dataset", how="left").join(worst, on="dataset", how="left").sort("dataset")


def _suppression_cells(real: pl.DataFrame, published: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Every real LA-level figure of our data sets' columns (LAIT and derived figures excluded) beside our
    published text: ``value`` (DfE's), ``ours_text``, ``real_c``, ``ours_c``."""
    la = real.filter(
        (pl.col("geographic_level") == LOCAL)
        & ~pl.col("column").str.starts_with("LAIT:")
        & (pl.col("source_id") != "LAIT-derived")
        & ~pl.col("value").is_in(["x", ":", "z"])
    )
    parts = []
    for code, frame in published.items():
        if frame.is_empty() or "old_la_code" not in frame.columns:
            continue
        cols = [
            c for c in la.filter(pl.col("dataset") == code)["column"].unique().to_list() if c in frame.columns
        ]
        if not cols:
            continue
        parts.append(
            _geo(frame.filter(pl.col("geographic_level") == LOCAL))
            .select("old_la_code", *cols)
            .unpivot(index="old_la_code", variable_name="column", value_name="ours_text")
            .with_columns(pl.lit(code).alias("dataset"))
        )
    if not parts:
        return pl.DataFrame()
    return la.join(pl.concat(parts), on=["dataset", "column", "old_la_code"], how="inner").with_columns(
        (pl.col("value") == "c").alias("real_c"), (pl.col("ours_text") == "c").alias("ours_c")
    )


def suppression(real: pl.DataFrame, published: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Our ``c`` cells against DfE's, for every real LA-level figure of our data sets' columns (LAIT and
    derived figures excluded): one row per data set and column with cells, ``both_c``, ``real_only``
    (DfE suppressed, we published), ``ours_only`` (we suppressed, DfE published) and ``agreement`` (%)."""
    joined = _suppression_cells(real, published)
    if joined.is_empty():
        return pl.DataFrame()
    return (
        joined.group_by("dataset", "column")
        .agg(
            pl.len().alias("cells"),
            (pl.col("real_c") & pl.col("ours_c")).sum().alias("both_c"),
            (pl.col("real_c") & ~pl.col("ours_c")).sum().alias("real_only"),
            (~pl.col("real_c") & pl.col("ours_c")).sum().alias("ours_only"),
        )
        .with_columns(
            (100 * (pl.col("cells") - pl.col("real_only") - pl.col("ours_only")) / pl.col("cells"))
            .round(1)
            .alias("agreement")
        )
        .sort("dataset", "column")
    )


def suppression_differences(
    real: pl.DataFrame, published: Mapping[str, pl.DataFrame], report: pl.DataFrame
) -> pl.DataFrame:
    """Every LA cell where our ``c`` pattern differs from DfE's, with why, from our suppression ``report``
    (``protect_year``'s): ``cause`` is ``values differ`` (ours is a count of 1..5 where DfE published one,
    or ours is 0), ``derived`` (a percentage of a count ours suppresses), ``our secondary`` with the
    relation that needed it in ``relation`` (``identity``: a declared identity between statistics;
    ``geography``: a regional sum, where a rounded total would pin the LA; ``within file``: a row or column
    sum), or ``DfE only`` (DfE's count is not published: a 1..5 where ours is larger, or DfE's secondary);
    ``reason`` says it in words."""
    joined = _suppression_cells(real, published)
    if joined.is_empty():
        return pl.DataFrame()
    ours = report.filter(pl.col("geographic_level") == LOCAL).select(
        "dataset", pl.col("geography_code").alias("old_la_code"), "column", "kind", "protects"
    )
    protects = pl.col("protects").fill_null("")
    relation = (
        pl.when(pl.col("kind").fill_null("") != "secondary")
        .then(None)
        .when(protects.str.starts_with("by definition"))
        .then(pl.lit("identity"))
        .when(protects.str.contains("= sum of (its local authorities|the nine regions|Inner London)"))
        .then(pl.lit("geography"))
        .otherwise(pl.lit("within file"))
    )
    cause = (
        pl.when(pl.col("real_c"))
        .then(pl.when(pl.col("ours_text") == "0").then(pl.lit("values differ")).otherwise(pl.lit("DfE only")))
        .when(pl.col("kind") == "primary")
        .then(pl.lit("values differ"))
        .when(pl.col("kind") == "derived")
        .then(pl.lit("derived"))
        .otherwise(pl.lit("our secondary"))
    )
    reason = (
        pl.when(pl.col("real_c") & (pl.col("ours_text") == "0"))
        .then(pl.lit("ours is 0; DfE suppressed it"))
        .when(pl.col("real_c"))
        .then(pl.format("DfE suppressed it (a count of 1 to 5, or DfE's secondary); ours is {}", "ours_text"))
        .when(pl.col("kind") == "primary")
        .then(pl.format("ours is a count of 1 to 5; DfE's is {}", "value"))
        .otherwise(protects)
    )
    return (
        joined.filter(pl.col("real_c") != pl.col("ours_c"))
        .join(ours, on=["dataset", "old_la_code", "column"], how="left")
        .with_columns(cause.alias("cause"), relation.alias("relation"), reason.alias("reason"))
        .select(
            "dataset",
            "column",
            "region_code",
            "old_la_code",
            "value",
            "ours_text",
            "cause",
            "relation",
            "reason",
        )
        .sort("cause", "relation", "dataset", "column", "old_la_code", nulls_last=True)
    )
