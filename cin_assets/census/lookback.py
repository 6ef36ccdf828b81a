"""Whether each LA's look-back (its previous year's return) can be used, by the rules of that year's inventory.

Re-referrals of reporting year Y look back at the LA's referrals in its year Y-1 return. A look-back that is
silently short (the Y-1 file deleted, refused, duplicated or mislabelled) undercounts the LA's
re-referrals, and England's, while every figure looks fine. So each LA expected in year Y gets one of:

- ``counted``: its Y-1 return is loaded (one usable file at its place, no declaration): the look-back
  reads it.
- ``no_census``: there is no Y-1 census in the series (the first year): nobody's re-referrals are
  available, England's included.
- ``new_la``: the LA is not expected in Y-1 (``reference/la_codes_by_year.csv``: created or given a new
  code in Y) and DfE did not count its first-year re-referrals (``reference/la_successors.csv``,
  ``not_available``: Dorset and Bournemouth, Christchurch and Poole in 2020): it has no earlier return of
  its own.
- ``own_return``: a successor whose first-year re-referrals DfE counted within its own Y return
  (``la_successors.csv``, ``own_return``: North and West Northamptonshire in 2022, Cumberland and
  Westmorland and Furness in 2024, whose published re-referrals are exactly their referrals less their
  children referred): a referral of a child already referred earlier in the year. Nothing is looked back
  on, and nothing can block.
- ``not_available`` / ``carry_forward``: the team declared its Y-1 return so
  (:mod:`cin_assets.census.exceptions`): either way it has no Y-1 referrals of its own to look back on
  (a carried-forward year holds an even earlier year's figures, not that year's referrals).
- ``unusable``: its Y-1 return is missing, refused, duplicated or mislabelled and nobody declared
  anything: year Y's look-back measures would be undercounted, so the year must not publish.

A successor declared ``predecessors`` in ``la_successors.csv`` (none is: DfE's published figures say it
counted its successors ``own_return``) looks back on its predecessors' Y-1 returns instead, under the same
rules (``looks_back_on``); their children are matched by the child key once the predecessor's code is
mapped to the successor's (:func:`looked_back_rows`).

In every case but ``counted`` and ``own_return`` the LA's look-back measures are not available (its rows
are left out of the look-back); England and regional counts then count only the LAs whose look-back is
counted while their referrals count every LA, so their re-referral percentages understate, as in DfE's
releases; the guidance says which LAs they leave out (:func:`notes`).

Plain polars, no Dagster: the defs layer wires it (``cin_assets.defs.measures``).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from polars._typing import PolarsDataType

from cin_assets.census import exceptions
from cin_assets.census import inventory as returns

COUNTED, NO_CENSUS, NEW_LA, UNUSABLE = "counted", "no_census", "new_la", "unusable"
# how a successor's first-year re-referrals are counted (reference ``la_successors.csv``,
# ``first_year_lookback``): looking back on its predecessors' ``year - 1`` returns, within its own first
# return only (a child's earlier referrals of the same year), or not at all (published not available)
PREDECESSORS, OWN_RETURN = "predecessors", "own_return"
FIRST_YEAR_LOOKBACKS = (PREDECESSORS, OWN_RETURN, exceptions.NOT_AVAILABLE)

SCHEMA: dict[str, PolarsDataType] = {
    "reporting_year": pl.Int32,
    "la_code": pl.String,
    "la_name": pl.String,
    "lookback_year": pl.Int32,
    "files": pl.String,
    "status": pl.String,
    "reason": pl.String,
    "lookback": pl.String,
    "looks_back_on": pl.String,
}

# how far each verdict weighs when a successor's predecessors' verdicts are combined (the worst wins)
_RANK = {
    COUNTED: 0,
    OWN_RETURN: 1,
    NEW_LA: 1,
    exceptions.NOT_AVAILABLE: 2,
    exceptions.CARRY_FORWARD: 2,
    UNUSABLE: 3,
}


def build(
    year: int, expected: pl.DataFrame, previous: pl.DataFrame | None, successors: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The look-back of each LA expected in reporting ``year`` (columns :data:`SCHEMA`).

    ``expected``: ``la_code``, ``la_name`` of the LAs expected in ``year``; ``previous``: the inventory of
    ``year - 1`` (:func:`cin_assets.census.inventory.build`, with that year's declarations) as its files
    are now, or None when the series has no ``year - 1`` census; ``successors``: ``year``'s rows of
    :func:`cin_assets.reference.successors` (la_code, predecessor_la_code, first_year_lookback).
    ``status``, ``reason`` and ``files`` are the ``year - 1`` inventory's of the return(s) looked back on
    (``looks_back_on``: the LA's own code, or the predecessors' of a successor declared ``predecessors``).
    """
    base = expected.select("la_code", "la_name")
    if previous is None:
        frame = base.with_columns(
            pl.lit(None, pl.String).alias("files"),
            pl.lit(None, pl.String).alias("status"),
            pl.lit(f"no {year - 1} census in the series").alias("reason"),
            pl.lit(NO_CENSUS).alias("lookback"),
            pl.lit(None, pl.String).alias("looks_back_on"),
        )
    else:
        frame = _verdicts(year, base, previous, successors)
    return frame.with_columns(
        pl.lit(year, pl.Int32).alias("reporting_year"), pl.lit(year - 1, pl.Int32).alias("lookback_year")
    ).select(pl.col(c).cast(t) for c, t in SCHEMA.items())


def _verdicts(
    year: int, base: pl.DataFrame, previous: pl.DataFrame, successors: pl.DataFrame | None
) -> pl.DataFrame:
    """One verdict per expected LA: its own ``year - 1`` return's, or the worst of its predecessors' (a
    successor declared ``predecessors``); a successor declared ``own_return`` has nothing to look back on."""
    links = _links(successors, PREDECESSORS)
    own = _links(successors, OWN_RETURN)["la_code"]
    before = previous.filter(pl.col("status") != returns.UNEXPECTED).select(
        pl.col("la_code").alias("source"), "files", "status", "reason", "declared"
    )
    linked = pl.col("predecessor_la_code").is_not_null()
    rows = (
        base.join(links, on="la_code", how="left")
        .with_columns(pl.coalesce("predecessor_la_code", "la_code").alias("source"))
        .join(before, on="source", how="left")
        .with_columns(
            pl.when(pl.col("status").is_null() & pl.col("la_code").is_in(own.implode()))
            .then(pl.lit(OWN_RETURN))
            .when(pl.col("status").is_null())
            .then(pl.lit(NEW_LA))
            .when(pl.col("declared").is_not_null())
            .then(pl.col("declared"))
            .when(pl.col("status") == returns.LOADED)
            .then(pl.lit(COUNTED))
            .otherwise(pl.lit(UNUSABLE))
            .alias("lookback"),
            pl.when(pl.col("status").is_null())
            .then(_not_expected(year, successors))
            .when(linked)
            .then(pl.format("predecessor {}: {}", pl.col("source"), pl.col("reason")))
            .otherwise(pl.col("reason"))
            .alias("reason"),
        )
        .with_columns(pl.col("lookback").replace_strict(_RANK, return_dtype=pl.Int8).alias("_rank"))
    )
    worst = pl.col("_rank").arg_max()
    return rows.group_by("la_code", maintain_order=True).agg(
        pl.col("la_name").first(),
        pl.col("files").drop_nulls().str.join("; ").replace("", None).alias("files"),
        *(pl.col(c).get(worst) for c in ("status", "reason", "lookback")),
        pl.when(pl.col("status").is_not_null())
        .then(pl.col("source"))
        .drop_nulls()
        .str.join(", ")
        .replace("", None)
        .alias("looks_back_on"),
    )


def _links(successors: pl.DataFrame | None, how: str) -> pl.DataFrame:
    """``la_code`` -> ``predecessor_la_code`` of the successors whose first-year look-back is ``how``."""
    if successors is None:
        return pl.DataFrame(schema={"la_code": pl.String, "predecessor_la_code": pl.String})
    return successors.filter(pl.col("first_year_lookback") == how).select("la_code", "predecessor_la_code")


def _not_expected(year: int, successors: pl.DataFrame | None) -> pl.Expr:
    """Why an LA has no ``year - 1`` return: new or newly coded, and for a successor, that DfE did not look
    back on its predecessors' returns (and whether it counted the re-referrals within its own return)."""
    new = pl.format("not expected in {} (reference la_codes_by_year.csv)", pl.lit(year - 1))
    if successors is None or successors.is_empty():
        return new
    names = dict(
        successors.filter(pl.col("first_year_lookback") != PREDECESSORS)
        .group_by("la_code")
        .agg(pl.col("predecessor_la_code").sort().str.join(", "))
        .iter_rows()
    )
    own = _links(successors, OWN_RETURN)["la_code"].implode()
    return (
        pl.when(pl.col("la_code").is_in(list(names)))
        .then(
            pl.format(
                "new in {}; its predecessors' ({}) {} returns are not looked back on, as DfE did not{} "
                "(reference la_successors.csv)",
                pl.lit(year),
                pl.col("la_code").replace_strict(names, default=None),
                pl.lit(year - 1),
                pl.when(pl.col("la_code").is_in(own))
                .then(pl.lit(f"; its re-referrals are counted within its own {year} return, as DfE did"))
                .otherwise(pl.lit("")),
            )
        )
        .otherwise(new)
    )


def looked_back_rows(rows: pl.DataFrame, lookback: pl.DataFrame) -> pl.DataFrame:
    """The previous year's ``rows`` (with ``la_code``) of the LAs whose look-back is counted, each under
    the code of the LA that looks back on it: a predecessor's rows under the code of every successor
    declared ``predecessors`` (a Northamptonshire 2021 child referred again in North Northamptonshire in
    2022 is then matched by its child key there), an LA's own rows under its own."""
    sources = (
        lookback.filter(pl.col("lookback") == COUNTED)
        .select(
            "la_code", pl.col("looks_back_on").fill_null(pl.col("la_code")).str.split(", ").alias("source")
        )
        .explode("source")
    )
    columns = rows.columns
    return (
        rows.join(sources, left_on="la_code", right_on="source", how="inner", maintain_order="left")
        .drop("la_code")
        .rename({"la_code_right": "la_code"})
        .select(columns)
    )


def unusable(lookback: pl.DataFrame, declared: pl.DataFrame | None = None) -> pl.DataFrame:
    """Rows that stop the year: an LA whose previous return is not usable and not declared, unless the LA
    is declared in the year itself (``declared``: ``la_code`` of the year's declarations), whose own
    figures are then not counted, so its look-back is never read."""
    rows = lookback.filter(pl.col("lookback") == UNUSABLE)
    if declared is not None:
        rows = rows.filter(~pl.col("la_code").is_in(declared["la_code"].implode()))
    return rows


def counted_las(lookback: pl.DataFrame) -> list[str]:
    """The LAs whose previous return the look-back reads."""
    return lookback.filter(pl.col("lookback") == COUNTED)["la_code"].sort().to_list()


def problems(lookback: pl.DataFrame) -> list[str]:
    """One line per blocking row: the year, the LA (code and name), the previous year's file and why."""
    return [
        f"[{r['reporting_year']}] LA {r['la_code']} {r['la_name']}: look-back to its {r['lookback_year']} "
        f"return {_place(r['lookback_year'], r['files'] or _own_file(r))} is {r['status']} "
        f"({r['reason']}); its {r['reporting_year']} re-referrals would be undercounted. Restore the file "
        f"and rerun {r['lookback_year']} and {r['reporting_year']}, or declare its {r['lookback_year']} "
        f"return not_available in exceptions.csv"
        for r in lookback.sort("la_code").iter_rows(named=True)
    ]


def _own_file(row: dict) -> str:
    """The file a look-back with no file reads: the LA's own, or its predecessors' (``predecessors``)."""
    return ", ".join(f"{c}.xml" for c in (row["looks_back_on"] or row["la_code"]).split(", "))


def _place(year: int, files: str) -> str:
    return f"census/{year}/{files}"


_WHY = {
    NEW_LA: "it is new in {y} or has a new code, so it has no {p} return of its own, and DfE did not look "
    "back on its predecessors' {p} returns",
    exceptions.NOT_AVAILABLE: "its {p} return was declared not available",
    exceptions.CARRY_FORWARD: "its {p} return was declared carry forward, so it has no {p} referrals of its own",
}


def notes(basis: pl.DataFrame) -> list[str]:
    """The guidance's notes on look-backs (``counting_basis`` rows of one or more years, with their
    ``lookback`` and ``looks_back_on`` columns): the years with no previous census, each successor whose
    look-back reads its predecessors' returns or only its own, then each counted LA whose re-referrals are
    not available and what the England and regional figures then hold. LAs not counted in the year have
    their own notes (:func:`cin_assets.census.exceptions.notes`)."""
    if "lookback" not in basis.columns:
        return []
    out = [
        f"{y}: re-referrals are not available for any local authority, region or England: there is no "
        f"{y - 1} census in this series to look back on."
        for y in basis.filter(pl.col("lookback") == NO_CENSUS)["reporting_year"].unique().sort().to_list()
    ]
    counted = basis.filter(pl.col("basis") == COUNTED)
    if "looks_back_on" in basis.columns:
        successors = counted.filter(
            (pl.col("lookback") == COUNTED) & (pl.col("looks_back_on") != pl.col("la_code"))
        )
        out += _per_la(
            successors,
            lambda r, y: (
                f"its re-referrals look back on the {y - 1} return of the authority it succeeds "
                f"({r['looks_back_on']}) (reference la_successors.csv): a child that authority referred within "
                "the previous 12 months counts as re-referred."
            ),
        )
    out += _per_la(
        counted.filter(pl.col("lookback") == OWN_RETURN),
        lambda _, y: (
            f"in its first year its re-referrals are counted within its own {y} return, as DfE "
            f"counted them: referrals of a child already referred earlier in the year. The {y - 1} referrals of "
            "the authority it succeeds are not looked back on, so its re-referrals, and those of its region and "
            "England, are fewer than a 12-month look-back would give."
        ),
    )
    out += _per_la(
        counted.filter(pl.col("lookback").is_in(list(_WHY))),
        lambda r, y: (
            f"re-referrals are not available ({_WHY[r['lookback']].format(y=y, p=y - 1)}). England "
            f"and regional re-referral counts include only the local authorities whose {y - 1} returns were "
            "looked back on, while their referrals include every local authority, so their re-referral "
            "percentages understate, as in DfE's releases."
        ),
    )
    return out


def _per_la(rows: pl.DataFrame, text: Callable[[dict, int], str]) -> list[str]:
    """One note per row (by year and LA): ``<year>: <LA name> (<code>): `` then ``text(row, year)``."""
    return [
        f"{r['reporting_year']}: {r['la_name']} ({r['la_code']}): {text(r, r['reporting_year'])}"
        for r in rows.sort("reporting_year", "la_code").iter_rows(named=True)
    ]
