"""Output profiles: how the one set of data set descriptions is laid out in the published files.

The descriptions (``cin_assets.datasets.catalogue``) and every stage up to disclosure control use the
2020 release's column names and filters. A profile maps them, at publication, to a file layout:

- ``ees`` (the default): files that pass today's EES screener (``cin_assets.publish.screener``) with no
  FAIL and as few warnings as the standard allows: the GSS symbol ``x`` for not available; lower-case
  snake_case names starting with a letter, DfE's data dictionary names where they exist (C1); the
  ``characteristic_type``/``characteristic`` pair split into one filter per kind of characteristic
  (``sex``, ``age_group``, ``ethnicity_major``, each with ``Total``); A4's ethnic groups as an
  ``ethnicity_major`` filter with one count; GSS ethnicity values; a ``filter_default`` declared for
  every filter without a ``Total`` (such filters are not grouped: EES ignores defaults in hierarchies).
- ``release2020``: the 2020 release's layout, names and symbols (``:`` for not available), unchanged.

A profile changes labels and layout only: every published cell is a cell of the protected frame (A4's
``Ethnicity_Known`` column, which is ``Total`` minus ``Unknown``, is left out of the ``ees`` layout), so
disclosure control and its checks, which run on the protected frames, hold for every profile.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import polars as pl

from cin_assets.datasets.description import ColumnSum, DataSet, Filter, Indicator
from cin_assets.publish.screener import Result

DEFAULT_PROFILE = "ees"
PROFILE_ENV = ("CIN_PROFILE", "PROFILE")
CANONICAL_NOT_AVAILABLE = ":"  # the symbol disclosure control writes (DisclosureConfig.not_available)
CHARACTERISTIC_TYPE, CHARACTERISTIC = "characteristic_type", "characteristic"
TOTAL = "Total"


@dataclass(frozen=True)
class Split:
    """A published filter made from the ``characteristic`` items of some ``characteristic_type`` values."""

    name: str
    label: str
    hint: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class Pivot:
    """Indicator columns published as the items of a filter, with one indicator holding the values.

    ``columns``: source indicator -> filter item (in order); ``drop``: indicators left out, explained by
    the footnote ``note``."""

    filter: Filter
    indicator: str
    label: str
    columns: Mapping[str, str]
    drop: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Profile:
    """A publication layout over the descriptions (see the module docstring)."""

    name: str
    not_available: str
    snake_case: bool = False
    names: Mapping[str, str] = field(default_factory=dict)
    splits: tuple[Split, ...] = ()
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    pivots: Mapping[str, Pivot] = field(default_factory=dict)
    declare_defaults: bool = False
    legacy_layout: bool = False

    def column(self, name: str) -> str:
        """The published name of a description column."""
        if name in self.names:
            return self.names[name]
        return snake_case(name) if self.snake_case else name

    def accepts(self, result: Result, ds: DataSet) -> bool:
        """Whether a screener FAIL is part of this profile's declared layout rather than an error: the
        2020 layout keeps the legacy ``:`` symbol and the indicator names DfE published (``legacy_names``)."""
        if not self.legacy_layout or result.result != "FAIL":
            return False
        if result.check == "ind_invalid_entry":
            return self.not_available in ("~", ":")
        if result.check in ("col_ind_smushed", "harmonised_variables"):
            return bool(result.columns) and set(result.columns) <= set(ds.legacy_names)
        return False


def snake_case(name: str) -> str:
    """``2_years+`` -> ``duration_2_years_plus``, ``1-10_days`` -> ``duration_1_to_10_days``,
    ``CPP_At31`` -> ``cpp_at31``: lower case, ``+`` as ``plus``, ``-`` as ``to``, and a leading digit
    (a duration band) prefixed with ``duration_``."""
    out = name.replace("+", "_plus").replace("-", "_to_").lower()
    out = re.sub(r"[^a-z0-9_]", "_", out)
    out = re.sub(r"_+", "_", out).strip("_")
    return f"duration_{out}" if out[:1].isdigit() else out


_C1_DICTIONARY_NAMES = {
    "Referrals": "referral_count",
    "Referrals_rate": "referral_rate",
    "Re_referrals": "rereferral_count",
    "Re_referrals_percent": "rereferral_percent",
    "No_Further_Action": "no_further_action_count",
    "No_Further_Action_percent": "no_further_action_percent",
    "Not_in_Need": "not_in_need_count",
    "Not_in_Need_percent": "not_in_need_percent",
    "Referrals_child": "referral_child_count",
    "Referrals_child_rate": "referral_child_rate",
    "Re_referrals_child": "rereferral_child_count",
    "Re_referrals_child_percent": "rereferral_child_percent",
}
_GSS_MAJOR = {
    "Mixed": "Mixed / Multiple ethnic groups",
    "Asian or Asian British": "Asian / Asian British",
    "Black or Black British": "Black / African / Caribbean / Black British",
    "Not known": "Unknown",
}
_GSS_MINOR = {
    "White British": "English / Welsh / Scottish / Northern Irish / British",
    "White Irish": "Irish",
    # DfE's data dictionary names for the two census codes GSS groups differently (no GSS equivalent)
    "Traveller of Irish heritage": "Irish Traveller",
    "Gypsy/Roma": "Gypsy / Roma",
    "Any other Mixed background": "Any other Mixed / Multiple ethnic background",
    "Black Caribbean": "Caribbean",
    "Black African": "African",
    "Any other Black background": "Any other Black / African / Caribbean background",
}
_A4_ETHNICITY = Filter(
    "ethnicity_major",
    "Ethnicity",
    (
        TOTAL,
        "White",
        "Mixed / Multiple ethnic groups",
        "Asian / Asian British",
        "Black / African / Caribbean / Black British",
        "Other ethnic group",
        "Unknown",
    ),
    total=TOTAL,
    hint="Filter by ethnicity (major group)",
)

EES = Profile(
    name="ees",
    not_available="x",
    snake_case=True,
    names=MappingProxyType(
        {
            **_C1_DICTIONARY_NAMES,
            # "female" in an indicator name fails col_ind_smushed
            "Female_Genital_Mutilation": "fgm",
            "At31episodes_disability_recorded_percent": "at31_episodes_disability_recorded_percent",
        }
    ),
    splits=(
        Split("sex", "Sex", "Filter by sex of the child", ("Gender",)),
        Split("age_group", "Age group", "Filter by age of the child at 31 March", ("Unborn", "Age")),
        Split("ethnicity_major", "Ethnicity", "Filter by ethnicity (major group)", ("Ethnicity",)),
    ),
    values=MappingProxyType({"ethnicity_major": _GSS_MAJOR, "ethnicity_minor": _GSS_MINOR}),
    pivots=MappingProxyType(
        {
            "A4": Pivot(
                filter=_A4_ETHNICITY,
                indicator="cin_at31",
                label="Children in need at 31 March",
                columns={
                    "CIN_At31": TOTAL,
                    "Ethnicity_White": "White",
                    "Ethnicity_Mixed": "Mixed / Multiple ethnic groups",
                    "Ethnicity_Asian_or_Asian_British": "Asian / Asian British",
                    "Ethnicity_Black_or_Black_British": "Black / African / Caribbean / Black British",
                    "Ethnicity_Other": "Other ethnic group",
                    "Ethnicity_Not_known": "Unknown",
                },
                drop=("Ethnicity_Known",),
                note=(
                    "Children whose ethnicity is known are the Total less Unknown. The groups are DfE's census "
                    "groups under their GSS names: Other ethnic group includes Chinese, which GSS places in "
                    "Asian / Asian British."
                ),
            )
        }
    ),
    declare_defaults=True,
)
RELEASE_2020 = Profile(name="release2020", not_available=CANONICAL_NOT_AVAILABLE, legacy_layout=True)
PROFILES: dict[str, Profile] = {p.name: p for p in (EES, RELEASE_2020)}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``; by default the one named by ``$CIN_PROFILE`` or ``$PROFILE``, else
    ``ees``."""
    if name is None:
        name = next((os.environ[v] for v in PROFILE_ENV if os.environ.get(v)), DEFAULT_PROFILE)
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown output profile {name!r}: choose one of {', '.join(PROFILES)}") from None


def not_available_symbol(profile: Profile | str | None = None) -> str:
    """The published symbol for "not available" under ``profile`` (``x`` for ``ees``, ``:`` in 2020)."""
    return (profile if isinstance(profile, Profile) else get_profile(profile)).not_available


# --- descriptions -------------------------------------------------------------------------------------


def _span(first: int, last: int, sep: str) -> str:
    return str(first) if first == last else f"{first}{sep}{last}"


_STEM_YEARS = re.compile(r"_\d{4}(_to_\d{4})?$")
_TITLE_YEARS = re.compile(r",? \d{4}( to \d{4})?$")


def with_years(ds: DataSet, first: int, last: int) -> DataSet:
    """``ds`` with the file name, title and years of the reporting years ``first``..``last`` published
    (time periods, i.e. with the data set's period offset)."""
    a, b = first + ds.period_offset, last + ds.period_offset
    stem = _STEM_YEARS.sub(f"_{_span(a, b, '_to_')}", ds.stem)
    title = _TITLE_YEARS.sub(f", {_span(a, b, ' to ')}", ds.title)
    return replace(ds, stem=stem, title=title, first_year=first, last_year=last)


def _split_filters(ds: DataSet, profile: Profile) -> tuple[Filter, ...]:
    kinds = next(f for f in ds.filters if f.name == CHARACTERISTIC_TYPE).values
    items = next(f for f in ds.filters if f.name == CHARACTERISTIC)
    types = _item_types(ds)
    out = []
    for split in profile.splits:
        if not set(split.types) & set(kinds):
            continue
        own = [i for i in items.values if types.get(i) in split.types and i != TOTAL]
        mapping = profile.values.get(split.name, {})
        values = (TOTAL, *(mapping.get(i, i) for i in own))
        out.append(Filter(split.name, split.label, values, total=TOTAL, hint=split.hint))
    return tuple(out)


def _item_types(ds: DataSet) -> dict[str, str]:
    return {row.values[CHARACTERISTIC]: row.values[CHARACTERISTIC_TYPE] for row in ds.rows}


def _is_split(ds: DataSet, profile: Profile) -> bool:
    return bool(profile.splits) and CHARACTERISTIC_TYPE in ds.filter_columns


def published(ds: DataSet, profile: Profile) -> DataSet:
    """The description of ``ds`` as ``profile`` publishes it (names, filters, indicators)."""
    if profile.legacy_layout:
        return ds
    filters: list[Filter] = []
    if _is_split(ds, profile):
        filters += _split_filters(ds, profile)
    for f in ds.filters:
        if f.name in (CHARACTERISTIC_TYPE, CHARACTERISTIC) and _is_split(ds, profile):
            continue
        mapping = profile.values.get(f.name, {})
        filters.append(
            replace(f, name=profile.column(f.name), values=tuple(mapping.get(v, v) for v in f.values))
        )
    if profile.declare_defaults:
        filters = [
            replace(f, group=None, default=None if f.total else f.values[0]) if not f.total or f.group else f
            for f in filters
        ]
    indicators: list[Indicator] = []
    pivot = profile.pivots.get(ds.code)
    for ind in ds.indicators:
        if pivot and (ind.name in pivot.drop or ind.name in pivot.columns):
            if ind.name == next(iter(pivot.columns)):
                filters.append(pivot.filter)
                indicators.append(
                    replace(ind, name=pivot.indicator, label=pivot.label, measure=ind.measure_id)
                )
            continue
        indicators.append(_renamed(ind, profile))
    sums = tuple(
        ColumnSum(profile.column(s.total), tuple(profile.column(p) for p in s.parts))
        for s in ds.column_sums
        if not pivot or not ({s.total, *s.parts} & {*pivot.columns, *pivot.drop})
    )
    return replace(
        ds,
        filters=tuple(filters),
        indicators=tuple(indicators),
        column_sums=sums,
        row_sums=() if _is_split(ds, profile) or pivot else ds.row_sums,
        footnotes=(*ds.footnotes, pivot.note) if pivot and pivot.note else ds.footnotes,
        legacy_names=(),
    )


def _renamed(ind: Indicator, profile: Profile) -> Indicator:
    def col(name: str | None) -> str | None:
        return None if name is None else profile.column(name)

    return replace(
        ind,
        name=profile.column(ind.name),
        numerator=col(ind.numerator),
        denominator=col(ind.denominator),
        of=col(ind.of),
        measure=ind.measure_id,
    )


# --- frames -------------------------------------------------------------------------------------------


def published_frame(ds: DataSet, frame: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """The protected release frame of ``ds`` (description columns, disclosure symbols) laid out as
    ``profile`` publishes it; the columns are those of :func:`published` ``(ds, profile)``."""
    out = published(ds, profile)
    if profile.legacy_layout:
        return frame
    indicators = [i.name for i in ds.indicators]
    if profile.not_available != CANONICAL_NOT_AVAILABLE:
        frame = frame.with_columns(pl.col(indicators).replace(CANONICAL_NOT_AVAILABLE, profile.not_available))
    if _is_split(ds, profile):
        frame = frame.with_columns(
            pl.when(pl.col(CHARACTERISTIC_TYPE).is_in(split.types))
            .then(pl.col(CHARACTERISTIC).replace(dict(profile.values.get(split.name, {}))))
            .otherwise(pl.lit(TOTAL))
            .alias(split.name)
            for split in profile.splits
            if split.name in {f.name for f in out.filters}
        )
    for f in ds.filters:
        mapping = profile.values.get(f.name)
        if mapping and f.name in frame.columns:
            frame = frame.with_columns(pl.col(f.name).replace(dict(mapping)))
    frame = frame.rename(
        {c: profile.column(c) for c in frame.columns if c not in out.columns and profile.column(c) != c}
    )
    pivot = profile.pivots.get(ds.code)
    if pivot:
        keep = [c for c in out.columns if c not in (pivot.filter.name, pivot.indicator)]
        frame = (
            pl.concat(
                frame.with_row_index("_row").select(
                    *keep,
                    "_row",
                    pl.lit(position).alias("_item"),
                    pl.lit(item).alias(pivot.filter.name),
                    pl.col(profile.column(column)).alias(pivot.indicator),
                )
                for position, (column, item) in enumerate(pivot.columns.items())
            )
            .sort("_row", "_item")
            .drop("_row", "_item")
        )
    return frame.select(out.columns)
