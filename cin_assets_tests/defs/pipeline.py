"""The pipeline's assets as the defs tests materialise them in process (one list, not one per test module)."""

import cin_assets.defs.publish as publish_defs
from cin_assets.defs import census, inventory, lookback, measures, validation

# from the returns to the 28 measure frames of a year
MEASURED = [
    census.census_returns,
    census.census_staging,
    validation.census_validation,
    inventory.census_inventory,
    inventory.counting_basis,
    *lookback.LOOKBACK_ASSETS,
    *measures.MEASURE_ASSETS,
]
YEAR = [*MEASURED, publish_defs.protect_year_asset]  # one reporting year, protected
RELEASE = [publish_defs.publish_release]
ALL_ASSETS = [*YEAR, *RELEASE]
