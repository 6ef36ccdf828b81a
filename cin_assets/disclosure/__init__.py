"""Statistical disclosure control for the release: suppression, rounding, symbols, and the checks that
prove the published files are safe (pandera schemas plus an independent linear-programming attack).

Pure functions, no Dagster: ``protect_year`` turns one reporting year's unprotected frames into published
strings plus a suppression report; ``check_year`` validates the published frames (``schema_for`` per file,
cross-file checks, LP audit) and returns one :class:`CheckOutcome` per check.
"""

from cin_assets.disclosure.checks import CheckOutcome, check_year
from cin_assets.disclosure.config import RULES, DisclosureConfig, DisclosureError, disclosure_config
from cin_assets.disclosure.protect import ProtectedYear, protect_year, summary_metadata, suppression_summary
from cin_assets.disclosure.schema import schema_for

__all__ = [
    "RULES",
    "CheckOutcome",
    "DisclosureConfig",
    "DisclosureError",
    "ProtectedYear",
    "check_year",
    "disclosure_config",
    "protect_year",
    "schema_for",
    "summary_metadata",
    "suppression_summary",
]
