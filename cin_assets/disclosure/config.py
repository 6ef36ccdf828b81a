"""Disclosure-control policy and the published symbols."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from cin_assets.census.geography import NATIONAL, REGIONAL

ROUNDED_LEVELS = (NATIONAL, REGIONAL)


@dataclass(frozen=True)
class DisclosureConfig:
    """The release's disclosure-control policy (the defaults are the 2020 CIN release's).

    ``protection``: an attacker who solves every published relation of the year must not be able to work
    out any suppressed cell exactly, nor prove that it is below this value. 1 asks only the former: DfE's
    rule (:data:`RULES` ``dfe``), which lets a lone suppressed LA be narrowed by its rounded regional
    total (to 1..4, say) but never pinned; ``threshold + 1`` (``strict``) also keeps a 1..5 count from
    being shown to be small.
    """

    threshold: int = 5
    protection: int = 1
    rounding_base: int = 10
    not_available: str = ":"
    suppressed: str = "c"
    not_applicable: str = "z"

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.protection < 1 or self.rounding_base < 1:
            raise ValueError("need threshold >= 1, protection >= 1 and rounding_base >= 1")
        symbols = (self.not_available, self.suppressed, self.not_applicable)
        if len(set(symbols)) != 3 or any(not s or s.strip() != s or s[0].isdigit() for s in symbols):
            raise ValueError(f"symbols must be distinct, non-blank and not start with a digit: {symbols}")

    @property
    def symbols(self) -> tuple[str, str, str]:
        return (self.suppressed, self.not_available, self.not_applicable)

    @property
    def rule(self) -> str:
        """The suppression rule of :data:`RULES` this policy follows ("custom" for another level)."""
        return next((r for r in RULES if _protection(r, self.threshold) == self.protection), "custom")

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


RULES = ("dfe", "strict")  # the suppression rules a release can follow
DEFAULT_RULE = "dfe"
RULE_ENV = "CIN_SUPPRESSION"


def disclosure_config(rule: str | None = None) -> DisclosureConfig:
    """The policy of suppression rule ``rule`` (default ``$CIN_SUPPRESSION``, else ``dfe``): ``dfe`` never
    lets a suppressed cell be worked out exactly (DfE's published pattern: rounded regional totals protect
    a lone suppressed LA unless they pin it); ``strict`` also keeps every primary from being proven below
    ``threshold + 1``."""
    name = rule or os.environ.get(RULE_ENV) or DEFAULT_RULE
    if name not in RULES:
        raise ValueError(f"unknown suppression rule {name!r}: choose one of {', '.join(RULES)}")
    base = DisclosureConfig()
    return replace(base, protection=_protection(name, base.threshold))


def _protection(rule: str, threshold: int) -> int:
    """The protection level rule ``rule`` asks for: 1 (exact recovery only) under ``dfe``, ``threshold +
    1`` under ``strict``."""
    return 1 if rule == "dfe" else threshold + 1


class DisclosureError(ValueError):
    """The frames break the contract disclosure control relies on (a description's sums do not hold, a
    linked cell has two values, a column is missing) or a suppressed cell cannot be protected."""
