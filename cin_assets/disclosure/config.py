"""Disclosure-control policy and the published symbols."""

from __future__ import annotations

from dataclasses import dataclass

from cin_assets.census.geography import NATIONAL, REGIONAL

ROUNDED_LEVELS = (NATIONAL, REGIONAL)


@dataclass(frozen=True)
class DisclosureConfig:
    """The release's disclosure-control policy (the defaults are the 2020 CIN release's).

    ``protection``: an attacker who solves every published relation must not be able to prove that a
    suppressed cell is below this value (so a 1..5 count cannot be shown to be small).
    """

    threshold: int = 5
    protection: int = 6
    rounding_base: int = 10
    not_available: str = ":"
    suppressed: str = "c"
    not_applicable: str = "z"

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.protection <= self.threshold or self.rounding_base < 1:
            raise ValueError("need threshold >= 1, protection > threshold and rounding_base >= 1")
        symbols = (self.not_available, self.suppressed, self.not_applicable)
        if len(set(symbols)) != 3 or any(not s or s.strip() != s or s[0].isdigit() for s in symbols):
            raise ValueError(f"symbols must be distinct, non-blank and not start with a digit: {symbols}")

    @property
    def symbols(self) -> tuple[str, str, str]:
        return (self.suppressed, self.not_available, self.not_applicable)

    def rounded_interval(self, published: int) -> tuple[int, int]:
        """The true values an England/regional count published as ``published`` can have.

        Rounding is half up to ``rounding_base``; a published 0 is a true zero and anything else is above
        ``threshold`` (smaller counts are suppressed, never rounded)."""
        if published == 0:
            return (0, 0)
        base = self.rounding_base
        low = published - base // 2
        high = published + (base - 1) // 2
        return (max(low, self.threshold + 1), high)


class DisclosureError(ValueError):
    """The frames break the contract disclosure control relies on (a description's sums do not hold, a
    linked cell has two values, a column is missing) or a suppressed cell cannot be protected."""
