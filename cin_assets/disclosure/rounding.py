"""Half-up rounding that never falls into float traps, as polars expressions.

DfE rounds halves up (``dfeR::round_five_up``); polars and Python round halves to even. Counts are rounded
in integer arithmetic. Percentages are rounded from their integer numerator and denominator exactly.
Rates and day statistics only exist as floats, so they are rounded with a nudge of ``_NUDGE`` tenths:
a true half is at most a few ulps (< 1e-10) away from its float, while a ratio of integers with
denominator below 10 million that is *not* a half is at least 5e-8 tenths away from one, so the nudge
turns every true half up and never moves anything else across a rounding boundary.
"""

from __future__ import annotations

import polars as pl

_NUDGE = 1e-9


def round_count(value: pl.Expr, base: int) -> pl.Expr:
    """Non-negative integer counts to the nearest ``base``, halves up (5 -> 10)."""
    return ((2 * value + base) // (2 * base)) * base


def tenths_of_ratio(numerator: pl.Expr, denominator: pl.Expr, scale: int) -> pl.Expr:
    """``scale * numerator / denominator`` in tenths, rounded half up, exactly (integers only)."""
    num = numerator.cast(pl.Int64) * (20 * scale)
    den = denominator.cast(pl.Int64)
    return (num + den) // (2 * den)


def scaled_half_up(value: pl.Expr, decimals: int) -> pl.Expr:
    """A non-negative float times ``10**decimals`` rounded half up to an integer (see module notes)."""
    return (value * 10**decimals + 0.5 + _NUDGE).floor().cast(pl.Int64)


def format_scaled(scaled: pl.Expr, decimals: int) -> pl.Expr:
    """Render an integer holding ``value * 10**decimals`` with exactly ``decimals`` places."""
    if decimals == 0:
        return scaled.cast(pl.String)
    unit = 10**decimals
    return pl.concat_str(
        (scaled // unit).cast(pl.String),
        pl.lit("."),
        (scaled % unit).cast(pl.String).str.pad_start(decimals, "0"),
    )
