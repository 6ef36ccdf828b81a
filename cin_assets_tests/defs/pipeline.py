"""The pipeline's assets as the defs tests materialise them in process (one list, not one per test module)."""

import shutil
from pathlib import Path

import dagster as dg

import cin_assets.defs.publish as publish_defs
from cin_assets.defs import census, inventory, lookback, measures, validation
from cin_assets.defs.resources import OutputProfile, default_resources
from cin_assets.synth import generate_census
from cin_assets_tests.reference_subset import expect_only

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


def check_evaluation(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    """The run's one evaluation of the check ``name``."""
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == name]
    return check


def materialised(result: dg.ExecuteInProcessResult) -> set[str]:
    """The keys of the assets the run materialised."""
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def run(
    root: Path,
    instance: dg.DagsterInstance,
    selection: list,
    partition: str | None = None,
    *,
    policy: str = "count",
    profile: str = "ees",
    **kwargs,
) -> dg.ExecuteInProcessResult:
    """Materialise ``selection`` (of :data:`ALL_ASSETS`) on the data root ``root``, as a user would from
    the UI: default resources with a validation ``policy`` and output ``profile``; a failure is returned."""
    return dg.materialize(
        ALL_ASSETS,
        selection=selection,
        partition_key=partition,
        instance=instance,
        resources={
            **default_resources(root),
            "validation_policy": validation.ValidationPolicy(policy=policy),
            "output_profile": OutputProfile(name=profile),
        },
        raise_on_error=False,
        **kwargs,
    )


def step_failure(result: dg.ExecuteInProcessResult) -> str:
    """The message of the run's one failed step."""
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return str(failure.step_failure_data.error)


def refused_release(root: Path, instance: dg.DagsterInstance) -> str:
    """Run the release, which must fail: the message of its failed step."""
    release = run(root, instance, RELEASE)
    assert not release.success
    return step_failure(release)


def released_census(
    root: Path, las: list[str], years: list[int], scale: float, seed: int = 5
) -> tuple[dg.DagsterInstance, list[dg.ExecuteInProcessResult], dg.ExecuteInProcessResult]:
    """A census of ``las`` for ``years`` generated under ``root`` (expecting only those LAs), each year
    materialised to its protected files in order, then released: the instance, the year runs and the
    release run."""
    expect_only(root, las)
    generate_census(root / "census", years, scale=scale, seed=seed, las=las, workers=1)
    instance = dg.DagsterInstance.ephemeral()
    results = [run(root, instance, YEAR, str(y)) for y in years]
    return instance, results, run(root, instance, RELEASE)


def published_files(root: Path) -> dict[str, bytes]:
    """Every file of the current release under ``root``, by name."""
    return {p.name: p.read_bytes() for p in (root / "published").iterdir()}


def correct_return(root: Path, scratch: Path, year: int, la: str, seed: int) -> None:
    """A corrected return of ``la`` for ``year`` comes in: a freshly generated one replaces the file."""
    generate_census(scratch, [year], scale=0.02, seed=seed, las=[la], workers=1)
    shutil.copy(scratch / str(year) / f"{la}.xml", root / "census" / str(year) / f"{la}.xml")
