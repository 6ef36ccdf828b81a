"""A synthetic release year shaped like the 2020 CIN release: 28 data sets (19 LA-level wide files, an
ONS population file, 8 national files with filters or republished rows), linked through shared
measures, with LA sizes drawn around the real 2020 LA volumes. Used by the benchmark and by an
integration test (with fewer LAs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from cin_assets import reference
from cin_assets.datasets.description import ColumnSum, DataSet, Filter, Indicator, Republished, RowSum
from cin_assets_tests.disclosure.factories import la_frame, local_authorities, national_frame


def _count(name: str, measure: str | None = None) -> Indicator:
    return Indicator(name, name.replace("_", " "), "count", "synthetic", measure=measure)


def _pct(name: str, num: str, den: str) -> Indicator:
    return Indicator(f"{name}_percent", f"{name} %", "percent", "synthetic", numerator=num, denominator=den)


def _rate(name: str) -> Indicator:
    return Indicator(f"{name}_rate", f"{name} rate", "rate", "synthetic", numerator=name)


def _days(name: str, of: str) -> Indicator:
    return Indicator(name, name, "days", "synthetic", of=of)


@dataclass(frozen=True)
class Wide:
    """An LA-level file: a total count split into parts (shares of the total), with percentages."""

    code: str
    total: str
    measure: str
    parts: tuple[str, ...]
    shares: tuple[float, ...]
    percents: bool = True
    rates: bool = False


WIDE = (
    Wide(
        "B3",
        "At31_episodes",
        "cin_at31",
        tuple(f"N{i}" for i in range(10)),
        (0.02, 0.55, 0.1, 0.03, 0.08, 0.15, 0.01, 0.01, 0.02, 0.03),
    ),
    Wide(
        "B4",
        "At31_episodes",
        "cin_at31",
        ("open_3m", "open_3_6m", "open_6_12m", "open_1_2y", "open_2y_plus"),
        (0.25, 0.15, 0.2, 0.2, 0.2),
    ),
    Wide(
        "B5",
        "Ended_episodes",
        "cin_ended",
        ("ended_3m", "ended_3_6m", "ended_6_12m", "ended_1_2y", "ended_2y_plus"),
        (0.4, 0.2, 0.2, 0.15, 0.05),
    ),
    Wide(
        "B6",
        "Ended_episodes",
        "cin_ended",
        tuple(f"RC{i}" for i in range(1, 9)),
        (0.007, 0.008, 0.002, 0.002, 0.007, 0.033, 0.007, 0.934),
    ),
    Wide(
        "C2",
        "Assessments",
        "assessments",
        ("same_day", "d1_10", "d11_20", "d21_30", "d31_40", "d41_45", "d46_50", "d51_60", "d61_plus"),
        (0.05, 0.2, 0.2, 0.15, 0.15, 0.1, 0.05, 0.05, 0.05),
    ),
    Wide(
        "C5",
        "Referrals",
        "referrals",
        (
            "Individual",
            "Schools",
            "Education_services",
            "Health_services",
            "Housing",
            "LA_services",
            "Police",
            "Other_legal",
            "Other",
            "Anonymous",
            "Unknown",
        ),
        (0.081, 0.182, 0.021, 0.15, 0.013, 0.141, 0.287, 0.039, 0.049, 0.021, 0.016),
        percents=False,
    ),
    Wide(
        "D2",
        "CPP_start",
        "cpp_start",
        ("Neglect_start", "Physical_start", "Sexual_start", "Emotional_start", "Multiple_start"),
        (0.5, 0.08, 0.04, 0.36, 0.02),
    ),
    Wide(
        "D4",
        "CPP_At31",
        "cpp_at31",
        ("Neglect_at31", "Physical_at31", "Sexual_at31", "Emotional_at31", "Multiple_at31"),
        (0.505, 0.074, 0.038, 0.357, 0.026),
    ),
    Wide(
        "D5",
        "CPP_At31",
        "cpp_at31",
        ("cpp_3m", "cpp_3_6m", "cpp_6_12m", "cpp_1_2y", "cpp_2y_plus"),
        (0.3, 0.2, 0.3, 0.17, 0.03),
    ),
    Wide(
        "D7",
        "CPP_end",
        "cpp_end",
        ("ended_cpp_3m", "ended_cpp_3_6m", "ended_cpp_6_12m", "ended_cpp_1_2y", "ended_cpp_2y_plus"),
        (0.187, 0.114, 0.423, 0.24, 0.036),
    ),
    Wide(
        "D8",
        "CPP_end_first_half",
        "cpp_end_h1",
        ("stayed_0m", "stayed_3m", "stayed_6m", "stayed_12m", "stayed_more"),
        (0.4, 0.2, 0.2, 0.1, 0.1),
    ),
)

# plain LA files: (code, [(column, measure, share of the LA's size)], percents (name, num, den), rates)
PLAIN = (
    (
        "B1",
        [
            ("Anypoint_episodes", "cin_anypoint", 1.6),
            ("Anypoint_child", None, 1.5),
            ("Started_episodes", None, 0.65),
            ("Started_child", None, 0.62),
            ("Ended_episodes", "cin_ended", 0.62),
            ("Ended_child", None, 0.6),
            ("At31_episodes", "cin_at31", 1.0),
            ("Awaiting_assessment", None, 0.07),
        ],
        [],
        True,
    ),
    (
        "B2",
        [("At31_episodes", "cin_at31", 1.0), ("Disability", None, 0.126)],
        [("Disability", "Disability", "At31_episodes")],
        False,
    ),
    (
        "C1",
        [
            ("Referrals", "referrals", 1.65),
            ("Re_referrals", None, 0.37),
            ("No_further_action", None, 0.09),
            ("Not_in_need", None, 0.28),
            ("Referrals_child", None, 1.45),
            ("Re_referrals_child", None, 0.3),
        ],
        [
            ("Re_referrals", "Re_referrals", "Referrals"),
            ("No_further_action", "No_further_action", "Referrals"),
            ("Not_in_need", "Not_in_need", "Referrals"),
            ("Re_referrals_child", "Re_referrals_child", "Referrals_child"),
        ],
        False,
    ),
    (
        "C4",
        [
            ("Section47", None, 0.52),
            ("Section47_child", None, 0.46),
            ("ICPC", None, 0.2),
            ("ICPC_child", None, 0.2),
        ],
        [],
        True,
    ),
    (
        "D1",
        [
            ("CPP_start", "cpp_start", 0.17),
            ("CPP_child_start", None, 0.168),
            ("CPP_end", "cpp_end", 0.172),
            ("CPP_child_end", None, 0.17),
            ("CPP_anypoint", None, 0.3),
            ("CPP_child_anypoint", None, 0.29),
            ("CPP_At31", "cpp_at31", 0.132),
        ],
        [],
        True,
    ),
    (
        "D3",
        [("CPP_start", "cpp_start", 0.17), ("CPP_subsequent", None, 0.038)],
        [("CPP_subsequent", "CPP_subsequent", "CPP_start")],
        False,
    ),
    (
        "D6",
        [("CPP_3m_plus", None, 0.09), ("Reviewed_on_time", None, 0.082)],
        [("Reviewed_on_time", "Reviewed_on_time", "CPP_3m_plus")],
        False,
    ),
)

FACTORS = (
    "Alcohol_child",
    "Alcohol_parent",
    "Alcohol_person",
    "Drug_child",
    "Drug_parent",
    "Drug_person",
    "Domestic_child",
    "Domestic_parent",
    "Domestic_person",
    "Mental_child",
    "Mental_parent",
    "Mental_person",
    "Learning_child",
    "Learning_parent",
    "Learning_person",
    "Physical_dis_child",
    "Physical_dis_parent",
    "Physical_dis_person",
    "Young_carer",
    "Privately_fostered",
    "Unaccompanied",
    "Going_missing",
    "CSE",
    "Trafficking",
    "Gangs",
    "Socially_unacceptable",
    "Self_harm",
    "Neglect",
    "Emotional_abuse",
    "Physical_abuse",
    "Sexual_abuse",
    "FGM",
    "Faith_linked",
    "Other_factor",
)
FACTOR_SHARES = (
    0.02,
    0.06,
    0.01,
    0.03,
    0.09,
    0.02,
    0.07,
    0.32,
    0.04,
    0.06,
    0.3,
    0.03,
    0.01,
    0.03,
    0.004,
    0.01,
    0.02,
    0.002,
    0.02,
    0.001,
    0.006,
    0.04,
    0.03,
    0.003,
    0.02,
    0.06,
    0.04,
    0.18,
    0.21,
    0.06,
    0.04,
    0.0008,
    0.0005,
    0.15,
)

GENDERS = ("Total", "Female", "Male", "Unknown")
GENDER_SHARE = (0.45, 0.545, 0.005)
AGES = ("Total", "Unborn", "Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over")
AGE_SHARE = (0.015, 0.05, 0.2, 0.27, 0.35, 0.115)
ETHNIC = ("Eth_known", "Eth_group_1", "Eth_group_2", "Eth_group_3", "Eth_group_4", "Eth_group_5")
ETHNIC_SHARE = (0.72, 0.09, 0.075, 0.085, 0.03)


def descriptions() -> dict[str, DataSet]:
    """The 28 synthetic data set descriptions."""
    out: dict[str, DataSet] = {}
    for w in WIDE:
        inds = [_count(w.total, w.measure), *(_count(p) for p in w.parts)]
        if w.percents:
            inds += [_pct(p, p, w.total) for p in w.parts]
        if w.code == "C2":
            inds += [_days(d, w.total) for d in ("p25_days", "median_days", "p75_days")]
        cs = (ColumnSum(w.total, w.parts),)
        if w.code in ("D2", "D4"):
            latest = tuple(p.replace("_start", "_latest").replace("_at31", "_latest31") for p in w.parts)
            inds += [_count(p) for p in latest]
            cs += (ColumnSum(w.total, latest),)
        out[w.code] = _la_dataset(w.code, inds, cs)
    for code, cols, pcts, rates in PLAIN:
        inds = [_count(c, m) for c, m, _ in cols]
        inds += [_pct(n, num, den) for n, num, den in pcts]
        if rates:
            inds += [_rate(c) for c, _, _ in cols]
        out[code] = _la_dataset(code, inds, ())
    out["C3"] = _la_dataset("C3", [_count("Episodes_with_factors"), *(_count(f) for f in FACTORS)], ())
    pop = Indicator("population_0_17", "Population 0-17", "population", "ONS")
    out["P1"] = _la_dataset("P1", [pop], ())
    gender = Filter("gender", "Gender", GENDERS, total="Total")
    age = Filter("age", "Age", AGES, total="Total")
    cross = (
        RowSum({"gender": "Total"}, tuple({"gender": g} for g in GENDERS[1:])),
        RowSum({"age": "Total"}, tuple({"age": a} for a in AGES[1:])),
    )
    need = [_count("At31_episodes", "cin_at31"), *(_count(f"N{i}") for i in range(10))]
    out["A3"] = _national(
        "A3", need, (gender, age), (ColumnSum("At31_episodes", tuple(f"N{i}" for i in range(10))),), cross
    )
    eth = [_count("CIN_At31", "cin_at31"), *(_count(e) for e in ETHNIC)]
    out["A4"] = _national("A4", eth, (gender, age), (ColumnSum("Eth_known", ETHNIC[1:]),), cross)
    abuse = ("Neglect_at31", "Physical_at31", "Sexual_at31", "Emotional_at31", "Multiple_at31")
    cpp = [_count("CPP_At31", "cpp_at31"), *(_count(a) for a in abuse)]
    out["A5"] = _national("A5", cpp, (gender, age), (ColumnSum("CPP_At31", abuse),), cross)
    out["A6"] = _national("A6", list(cpp), (), (ColumnSum("CPP_At31", abuse),), ())
    eth7 = [_count("CIN_At31", "cin_at31"), *(_count(e) for e in ETHNIC)]
    out["A7"] = _national(
        "A7",
        eth7,
        (gender,),
        (ColumnSum("Eth_known", ETHNIC[1:]),),
        (RowSum({"gender": "Total"}, tuple({"gender": g} for g in GENDERS[1:])),),
    )
    out["A1"] = _summary(
        "A1",
        [
            ("Children in need at 31 March", "B1", "At31_episodes", None),
            ("Episodes ending", "B1", "Ended_episodes", None),
            ("Children awaiting assessment", "B1", "Awaiting_assessment", "At31_episodes"),
            ("Referrals", "C1", "Referrals", None),
            ("Re-referrals", "C1", "Re_referrals", "Referrals"),
            ("Assessments", "C2", "Assessments", None),
        ],
    )
    out["A2"] = _summary(
        "A2",
        [
            ("Section 47s", "C4", "Section47", None),
            ("ICPCs", "C4", "ICPC", None),
            ("CPP starting", "D1", "CPP_start", None),
            ("CPP at 31 March", "D1", "CPP_At31", None),
        ],
    )
    out["H1"] = _summary(
        "H1",
        [
            ("Children in need at 31 March", "B1", "At31_episodes", None),
            ("Referrals", "C1", "Referrals", None),
            ("CPP at 31 March", "D1", "CPP_At31", None),
        ],
    )
    return out


def _la_dataset(code: str, inds: Sequence[Indicator], cs: tuple[ColumnSum, ...]) -> DataSet:
    return DataSet(
        code=code,
        stem=f"{code.lower()}_synthetic",
        title=code,
        description="synthetic",
        geography="la",
        first_year=2013,
        last_year=2020,
        indicators=tuple(inds),
        category=None,
        column_sums=cs,
    )


def _national(code, inds, filters, cs, rs) -> DataSet:
    return DataSet(
        code=code,
        stem=f"{code.lower()}_synthetic",
        title=code,
        description="synthetic",
        geography="national",
        first_year=2013,
        last_year=2020,
        indicators=tuple(inds),
        filters=tuple(filters),
        column_sums=cs,
        row_sums=rs,
    )


def _summary(code: str, items: list[tuple[str, str, str, str | None]]) -> DataSet:
    stat = Filter("statistic", "Statistic", tuple(i[0] for i in items))
    inds = (
        Indicator("number", "Number", "count", "republished"),
        Indicator("percent", "Percentage", "percent", "republished", numerator="number"),
        Indicator("rate", "Rate", "rate", "republished", numerator="number"),
    )
    summary = tuple(Republished({"statistic": s}, src, col, pct) for s, src, col, pct in items)
    return DataSet(
        code=code,
        stem=f"{code.lower()}_synthetic",
        title=code,
        description="synthetic",
        geography="national",
        first_year=2013,
        last_year=2020,
        indicators=inds,
        filters=(stat,),
        summary=summary,
    )


# ------------------------------------------------------------------------------------------------ data
def _split(rng: np.random.Generator, totals: np.ndarray, shares: Sequence[float]) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return (
        rng.multinomial(totals, p / p.sum())
        if totals.ndim == 0
        else np.stack([rng.multinomial(int(t), p / p.sum()) for t in totals])
    )


def la_sizes(las: pl.DataFrame, year: int, rng: np.random.Generator) -> np.ndarray:
    """Children in need at 31 March per LA: the real published value of ``year`` where known, with noise."""
    real = reference.published_la_value("At31_episodes", year).rename({"value": "_real"})
    joined = las.join(real, on="old_la_code", how="left")
    base = joined.get_column("_real").fill_null(1500).to_numpy().astype(float)
    return np.maximum(1, rng.normal(base, np.sqrt(base) * 3)).astype(np.int64)


def frames(
    datasets: dict[str, DataSet],
    *,
    year: int = 2020,
    seed: int = 0,
    las: pl.DataFrame | None = None,
    missing_la: str | None = None,
) -> dict[str, pl.DataFrame]:
    """Unprotected frames of the synthetic release for ``year`` (``missing_la``: an LA whose counts are
    all not available, Hackney-style)."""
    rng = np.random.default_rng(seed)
    las = las if las is not None else local_authorities(year)
    size = la_sizes(las, year, rng)
    pops = reference.populations(year)
    pop_key = (
        pl.when(pl.col("geographic_level") == "National")
        .then(pl.lit("E92000001"))
        .when(pl.col("geographic_level") == "Regional")
        .then(pl.col("region_code"))
        .otherwise(pl.col("old_la_code"))
    )
    populations = dict(pops.select(pop_key, "population_0_17").iter_rows())
    codes = las.get_column("old_la_code")
    base: dict[str, np.ndarray] = {}

    def measure(name: str, scale: float) -> np.ndarray:
        if name not in base:
            base[name] = rng.poisson(size * scale)
        return base[name]

    plain_scale = {c: s for _, cols, _, _ in PLAIN for c, _, s in cols}
    totals = {
        "cin_at31": measure("cin_at31", 1.0),
        "cin_ended": measure("cin_ended", 0.62),
        "referrals": measure("referrals", 1.65),
        "cpp_start": measure("cpp_start", 0.17),
        "cpp_at31": measure("cpp_at31", 0.132),
        "cpp_end": measure("cpp_end", 0.172),
        "assessments": measure("assessments", 1.3),
        "cpp_end_h1": measure("cpp_end_h1", 0.085),
    }
    out: dict[str, pl.DataFrame] = {}

    def la(code: str, columns: dict[str, np.ndarray], derived: pl.DataFrame | None = None) -> None:
        table = pl.DataFrame({"old_la_code": codes, **columns})
        if missing_la is not None:
            table = table.with_columns(
                pl.when(pl.col("old_la_code") == missing_la).then(None).otherwise(pl.col(c)).alias(c)
                for c in columns
            )
        out[code] = la_frame(
            datasets[code], table, year=year, las=las, populations=populations, derived=derived
        )

    for w in WIDE:
        total = totals[w.measure]
        parts = _split(rng, total, w.shares)
        cols = {w.total: total, **{p: parts[:, i] for i, p in enumerate(w.parts)}}
        if w.code in ("D2", "D4"):
            latest = _split(rng, total, w.shares[::-1])
            for i, p in enumerate(w.parts):
                cols[p.replace("_start", "_latest").replace("_at31", "_latest31")] = latest[:, i]
        derived = None
        if w.code == "C2":
            derived = _days_frame(datasets["C2"], rng, las)
        la(w.code, cols, derived)
    for code, cols, _, _ in PLAIN:
        values = {}
        for c, m, _ in cols:
            values[c] = totals[m] if m in totals else measure(f"{code}:{c}", plain_scale[c])
        if code == "C1":
            values["Re_referrals"] = rng.binomial(values["Referrals"], 0.22)
            values["No_further_action"] = rng.binomial(values["Referrals"], 0.06)
            values["Not_in_need"] = rng.binomial(values["Referrals"], 0.17)
            values["Re_referrals_child"] = rng.binomial(values["Referrals_child"], 0.2)
        if code == "D3":
            values["CPP_subsequent"] = rng.binomial(values["CPP_start"], 0.22)
        if code == "D6":
            values["Reviewed_on_time"] = rng.binomial(values["CPP_3m_plus"], 0.92)
        la(code, values)
    episodes = rng.poisson(size * 1.34)
    factors = {f: rng.binomial(episodes, s) for f, s in zip(FACTORS, FACTOR_SHARES, strict=True)}
    la("C3", {"Episodes_with_factors": episodes, **factors})
    la("P1", {})
    _national_frames(out, datasets, rng, year, populations)
    return out


def _days_frame(ds: DataSet, rng: np.random.Generator, las: pl.DataFrame) -> pl.DataFrame:
    geos = [
        "E92000001",
        *reference.regions_table().get_column("region_code").to_list(),
        *las.get_column("old_la_code"),
    ]
    median = rng.uniform(15, 35, len(geos)).round(1)
    return pl.DataFrame(
        {"_geo": geos, "p25_days": median / 2, "median_days": median, "p75_days": median * 1.5}
    )


def _cross_table(rng: np.random.Generator, totals: dict[str, int], ages: bool = True) -> pl.DataFrame:
    """Gender (x age) table whose grand totals are ``totals``: each column's total is spread over the
    inner cells, then the Total rows are rebuilt so every sum holds."""
    age_items = AGES[1:] if ages else ("Total",)
    shares = np.outer(GENDER_SHARE, AGE_SHARE if ages else (1.0,)).ravel()
    inner = pl.DataFrame(
        [(g, a) for g in GENDERS[1:] for a in age_items],
        schema={"gender": pl.String, "age": pl.String},
        orient="row",
    ).with_columns(pl.Series(c, rng.multinomial(t, shares / shares.sum())) for c, t in totals.items())
    cols = list(totals)
    parts = [
        inner,
        inner.group_by("age").agg(pl.col(cols).sum()).with_columns(pl.lit("Total").alias("gender")),
    ]
    if ages:
        parts.append(
            inner.group_by("gender").agg(pl.col(cols).sum()).with_columns(pl.lit("Total").alias("age"))
        )
        parts.append(
            inner.select(pl.col(cols).sum()).with_columns(
                pl.lit("Total").alias("gender"), pl.lit("Total").alias("age")
            )
        )
    full = pl.concat(parts, how="diagonal_relaxed")
    g_order, a_order = {g: i for i, g in enumerate(GENDERS)}, {a: i for i, a in enumerate(AGES)}
    full = full.sort(pl.col("gender").replace_strict(g_order), pl.col("age").replace_strict(a_order))
    return full if ages else full.drop("age")


def _national_frames(out, datasets, rng, year, populations) -> None:
    def england(code: str, columns) -> dict[str, int]:
        row = out[code].filter(pl.col("geographic_level") == "National")
        return {c: int(row.get_column(c)[0]) for c in columns}

    needs = [f"N{i}" for i in range(10)]
    a3 = _cross_table(rng, england("B3", needs)).with_columns(pl.sum_horizontal(needs).alias("At31_episodes"))
    out["A3"] = national_frame(datasets["A3"], a3, year=year)
    # A4 splits A3's gender x age counts (the same statistic) by ethnicity
    groups = list(ETHNIC[1:])
    inner = a3.filter((pl.col("gender") != "Total") & (pl.col("age") != "Total"))
    shares = np.asarray((*ETHNIC_SHARE, 1 - sum(ETHNIC_SHARE)))
    split = np.stack([rng.multinomial(int(n), shares) for n in inner.get_column("At31_episodes")])
    eth = inner.select("gender", "age").with_columns(
        pl.Series(c, split[:, i]) for i, c in enumerate([*groups, "_unknown"])
    )
    cols = [*groups, "_unknown"]
    a4 = (
        pl.concat(
            [
                eth,
                eth.group_by("age").agg(pl.col(cols).sum()).with_columns(pl.lit("Total").alias("gender")),
                eth.group_by("gender").agg(pl.col(cols).sum()).with_columns(pl.lit("Total").alias("age")),
                eth.select(pl.col(cols).sum()).with_columns(
                    pl.lit("Total").alias("gender"), pl.lit("Total").alias("age")
                ),
            ],
            how="diagonal_relaxed",
        )
        .join(a3.select("gender", "age"), on=["gender", "age"], how="right")
        .select("gender", "age", *cols)
    )
    a4 = a4.with_columns(pl.sum_horizontal(groups).alias("Eth_known"))
    a4 = a4.with_columns((pl.col("Eth_known") + pl.col("_unknown")).alias("CIN_At31")).drop("_unknown")
    out["A4"] = national_frame(datasets["A4"], a4, year=year)
    out["A7"] = national_frame(datasets["A7"], a4.filter(pl.col("age") == "Total").drop("age"), year=year)
    abuse = ["Neglect_at31", "Physical_at31", "Sexual_at31", "Emotional_at31", "Multiple_at31"]
    a5 = _cross_table(rng, england("D4", abuse)).with_columns(pl.sum_horizontal(abuse).alias("CPP_At31"))
    out["A5"] = national_frame(datasets["A5"], a5, year=year)
    d4 = england("D4", ["CPP_At31", *abuse])
    out["A6"] = national_frame(datasets["A6"], pl.DataFrame({k: [v] for k, v in d4.items()}), year=year)
    england_pop = populations["E92000001"]
    for code in ("A1", "A2", "H1"):
        ds = datasets[code]
        rows = []
        for item in ds.summary:
            number = england(item.source, [item.column])[item.column]
            base = england(item.source, [item.percent_of])[item.percent_of] if item.percent_of else None
            rows.append(
                {
                    **item.values,
                    "number": number,
                    "percent": 100 * number / base if base else None,
                    "rate": 10_000 * number / england_pop,
                }
            )
        schema = {"statistic": pl.String, "number": pl.Int64, "percent": pl.Float64, "rate": pl.Float64}
        out[code] = national_frame(ds, pl.DataFrame(rows, schema=schema), year=year)
