"""Measures, disclosure control and the release as Dagster assets, on a small staged census.

The census is written straight into the staging tables' parquet partitions (the reader has its own
tests) and every count in it is a multiple of 6, so the published values are known exactly.
"""

import dataclasses
import errno
import os
import shutil
import zipfile
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import cin_assets.defs.publish as publish_defs
from cin_assets import reference
from cin_assets.census import tables
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.defs import inventory, lookback, measures, validation
from cin_assets.defs.resources import CinDataRoot, OutputProfile, SuppressionRule, default_resources
from cin_assets.measures.units import LOOKBACK_COLUMNS
from cin_assets.publish import guidance, release_store, screener
from cin_assets.publish import profile as profiles
from cin_assets_tests.defs.pipeline import ALL_ASSETS, RELEASE, step_failure
from cin_assets_tests.measures.census_builder import replicated_census
from cin_assets_tests.reference_subset import expect_only

LAS = ["841", "202", "203", "909"]
YEARS = (2019, 2020)


def _resources(root: Path, rule: str | None = None) -> dict[str, object]:
    return {
        **default_resources(root),
        "validation_policy": validation.ValidationPolicy(),
        "suppression_rule": SuppressionRule(name=rule),
    }


# the look-back reads the previous year's returns on disk; this staged census has none, so each year's
# look-back partition is staged too (the previous year's episodes)
YEAR_ASSETS = [*measures.MEASURE_ASSETS, publish_defs.protect_year_asset]


def _stage(root: Path) -> None:
    # the reference expects only the four staged LAs, so England and its regions are fully counted and
    # their rates are published (an uncounted LA would make them not available)
    ref = expect_only(root, LAS)
    columns = LOOKBACK_COLUMNS["episodes"]
    lookback = tables.empty("episodes").select(columns)  # no 2018 census
    for year in YEARS:
        for table, frame in replicated_census(year, LAS).items():
            folder = root / "staging" / f"staging_{table}"
            folder.mkdir(parents=True, exist_ok=True)
            frame.write_parquet(folder / f"{year}.parquet")
        lookback.write_parquet(_folder(root, "lookback_episodes") / f"{year}.parquet")
        lookback = replicated_census(year, LAS)["episodes"].select(columns)
        _basis(year, ref).write_parquet(_folder(root, "counting_basis") / f"{year}.parquet")


def _folder(root: Path, name: str) -> Path:
    folder = root / "staging" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _basis(year: int, ref: Path) -> pl.DataFrame:
    """Every LA the reference expects that year (the four staged ones), each counted from its return."""
    las = reference.local_authorities(year, ref)["old_la_code"]
    return pl.DataFrame(
        {
            "reporting_year": year,
            "la_code": las,
            "la_name": las,
            "status": pl.Series(["loaded" if la in LAS else "missing" for la in las]),
            "basis": pl.Series(["counted" if la in LAS else "not_available" for la in las]),
            "source_year": None,
            "note": None,
            "policy": "count",
            "lookback": "no_census" if year == YEARS[0] else "counted",
            "looks_back_on": None if year == YEARS[0] else las,
        },
        schema=inventory.BASIS_SCHEMA,
    )


def _run_year(
    root: Path,
    instance: dg.DagsterInstance,
    year: int,
    selection: list = YEAR_ASSETS,
    rule: str | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS,
        selection=selection,
        partition_key=str(year),
        instance=instance,
        resources=_resources(root, rule),
        raise_on_error=False,
    )


def _release(
    root: Path, instance: dg.DagsterInstance, profile: str = "release2020", rule: str | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS,
        selection=RELEASE,
        instance=instance,
        resources={**_resources(root, rule), "output_profile": OutputProfile(name=profile)},
        raise_on_error=False,
    )


def _published(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "published").iterdir())}


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("release") / "data"
    _stage(root)
    # an in-memory instance: the assets pass data through the parquet IO manager and files, and an
    # on-disk event log would spend most of the test writing events
    instance = dg.DagsterInstance.ephemeral()
    years = [_run_year(root, instance, y) for y in YEARS]
    release = _release(root, instance)
    yield root, instance, years, release


def test_each_year_is_measured_protected_and_checked(released) -> None:
    root, _, years, _ = released
    for result in years:
        assert result.success
        checks = result.get_asset_check_evaluations()
        assert len(checks) == len(DATASETS) * 2 + 3
        assert all(c.passed for c in checks)
        assert {c.partition for c in checks} == {result.dagster_run.tags["dagster/partition"]}
        audit = next(c for c in checks if c.check_name == "disclosure_lp_audit")
        assert "| file | row | column | interval | safe |" in audit.metadata["narrowest_intervals"].value
    b1 = pl.read_parquet(root / "staging" / "measure_b1" / "2020.parquet")
    assert b1.filter(pl.col("old_la_code") == "841")["At31_episodes"].item() == 12
    c1_2019 = pl.read_parquet(root / "staging" / "measure_c1" / "2019.parquet")
    assert c1_2019["Re_referrals"].is_null().all()  # no 2018 census: the look-back is not available
    c1_2020 = pl.read_parquet(root / "staging" / "measure_c1" / "2020.parquet")
    # every child of the 2019 census is referred again within 12 months, and c* twice in the year: 4 x 6
    assert c1_2020.filter(pl.col("old_la_code") == "841")["Re_referrals"].item() == 24


def test_metadata_shows_no_unprotected_values(released) -> None:
    _, _, years, _ = released
    for event in years[1].get_asset_materialization_events():
        key = event.asset_key.to_user_string()
        metadata = event.materialization.metadata
        if key.startswith(("measure_", "lookback_")):
            assert set(metadata) <= {
                "dagster/row_count",
                "dagster/column_schema",
                "data set",
                "in this year",
                "path",
            }
        if key == "protected_b1":
            assert "| 2020 | Reporting year |" not in metadata["preview"].value  # trimmed columns
            assert "| 50 |" in metadata["preview"].value  # England children in need, rounded
            assert metadata["suppressed"].value == 0


def test_one_data_set_rebuilds_alone_from_stored_upstream_frames(released) -> None:
    """Selecting one summary data set runs only it, reading the data sets it republishes from storage."""
    root, instance, _, _ = released
    path = root / "staging" / "measure_a1" / "2020.parquet"
    before = path.read_bytes()
    result = _run_year(root, instance, 2020, selection=[measures.measure_key("A1")])
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [measures.measure_key("A1")]
    assert path.read_bytes() == before
    # 2020's protected files are now older than one of their inputs: no release until they are protected again
    blocked = _release(root, instance)
    assert not blocked.success
    assert "the protected files of 2020 are older than" in step_failure(blocked)
    assert _run_year(root, instance, 2020, selection=[publish_defs.protect_year_asset]).success


def _stems(first: int = YEARS[0], last: int = YEARS[-1]) -> dict[str, str]:
    """The file stem of each data set in a release of reporting years ``first``..``last``."""
    return {
        code: profiles.with_years(ds, max(first, ds.first_year), min(last, ds.last_year)).stem
        for code, ds in DATASETS.items()
    }


ZIP_FILE = publish_defs.zip_file_name(YEARS[-1])


def test_release_writes_every_file_deterministically(released) -> None:
    """The release2020 profile: the 2020 layout, names and symbols; file names state the years published."""
    root, instance, _, result = released
    assert result.success
    files = _published(root)
    stems = _stems()
    assert stems["B1"] == "b1_children_in_need_2019_to_2020" and stems["H"] == "headline_figures_2020"
    assert stems["P"] == "ons_population_0_17_2018_to_2019"
    expected = {f"{s}.csv" for s in stems.values()} | {f"{s}.meta.csv" for s in stems.values()}
    assert expected | {publish_defs.GUIDANCE_FILE, ZIP_FILE, release_store.MANIFEST} == set(files)
    b1 = pl.read_csv(root / "published" / "b1_children_in_need_2019_to_2020.csv", infer_schema=False)
    assert b1["time_period"].unique(maintain_order=True).to_list() == ["2020", "2019"]
    england = b1.filter(pl.col("time_period") == "2020", pl.col("geographic_level") == "National")
    assert england["At31_episodes"].item() == "50"  # 4 LAs x 12, rounded to the nearest 10
    darlington = b1.filter(pl.col("time_period") == "2020", pl.col("old_la_code") == "841")
    assert darlington["At31_episodes"].item() == "12"
    meta = pl.read_csv(root / "published" / "b1_children_in_need_2019_to_2020.meta.csv", infer_schema=False)
    assert meta.columns[:3] == ["col_name", "col_type", "label"]
    assert meta.filter(pl.col("col_name") == "At31_episodes_rate")["indicator_dp"].item() == "1"
    c1 = pl.read_csv(root / "published" / "c1_referrals_and_rereferrals_2019_to_2020.csv", infer_schema=False)
    assert set(c1.filter(pl.col("time_period") == "2019")["Re_referrals"]) == {":"}
    with zipfile.ZipFile(root / "published" / ZIP_FILE) as archive:
        names = archive.namelist()
        assert len(names) == 2 * len(DATASETS) + 1
        assert (
            archive.read("data/b1_children_in_need_2019_to_2020.csv")
            == files["b1_children_in_need_2019_to_2020.csv"]
        )
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    guidance = files[publish_defs.GUIDANCE_FILE].decode()
    assert all(stem in guidance for stem in stems.values())
    assert "- Time periods: 2019 to 2020 (reporting year)" in guidance
    assert "2013 to 2020" not in guidance and "inferred" not in guidance and "README" not in guidance
    assert "only the first referral of that day is recorded" in guidance
    # the 2020 layout keeps the screener FAILs DfE's own 2020 files had, and nothing else fails
    checks = {c.asset_key: c for c in result.get_asset_check_evaluations()}
    assert len(checks) == len(DATASETS) and all(c.passed for c in checks.values())
    c1_check = checks[publish_defs.published_key("C1")]
    assert "ind_invalid_entry | Check indicators | FAIL (accepted: 2020 layout)" in (
        c1_check.metadata["screener"].value
    )

    again = _release(root, instance)
    assert again.success
    assert _published(root) == files  # byte-identical, ZIP included


def test_the_release_is_a_verified_folder_made_current_in_one_step(released) -> None:
    root, instance, _, _ = released
    published = root / "published"
    assert published.is_symlink()
    folder = published.resolve()
    assert folder.parent == root / "releases"
    assert release_store.verify(folder) == []  # every file's sha256 matches the manifest
    manifest = pl.read_csv(folder / release_store.MANIFEST)
    assert manifest.height == 2 * len(DATASETS) + 2  # data, metadata, guidance, ZIP
    event = instance.get_latest_materialization_event(publish_defs.MANIFEST_KEY)
    metadata = event.asset_materialization.metadata
    assert metadata["release"].value == folder.name
    assert folder.name in metadata["releases"].value
    # the published tables describe their columns with the labels of the .meta.csv
    b1 = instance.get_latest_materialization_event(publish_defs.published_key("B1"))
    columns = {
        c.name: c.description
        for c in b1.asset_materialization.metadata["dagster/column_schema"].schema.columns
    }
    meta = pl.read_csv(published / f"{_stems()['B1']}.meta.csv", infer_schema=False)
    label = meta.filter(pl.col("col_name") == "At31_episodes")["label"].item()
    assert columns["At31_episodes"] == label
    assert columns["old_la_code"] and all(columns.values())


def _manifest_holds(folder: Path) -> bool:
    """Every file of a release folder has the sha256 its manifest lists, and nothing else is there."""
    return release_store.verify(folder) == []


def test_a_full_disk_mid_release_leaves_the_previous_release_byte_identical(released, monkeypatch) -> None:
    root, instance, _, _ = released
    previous = (root / "published").resolve()
    before = _published(root)
    real_guidance, real_write = guidance.data_guidance, release_store.write_file
    # a revised guidance makes a new release (the same files again would change nothing)
    monkeypatch.setattr(guidance, "data_guidance", lambda *a: real_guidance(*a) + "\nRevised.\n")
    written: list[str] = []

    def disk_fills_up(path: Path, data: bytes) -> None:
        if len(written) == 20:
            real_write(path, data[:100])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(path.name)
        real_write(path, data)

    monkeypatch.setattr(release_store, "write_file", disk_fills_up)
    failed = _release(root, instance)
    assert not failed.success
    # the step's error, as the UI shows it, names the file and the cause
    message = next(e for e in failed.all_events if e.is_step_failure).step_failure_data.error.message
    assert "No space left on device" in message and "previous release is unchanged" in message
    assert f"could not write {sorted(set(before) - {release_store.MANIFEST})[20]} (" in message
    assert (root / "published").resolve() == previous
    assert _published(root) == before and _manifest_holds(previous)
    assert not any(p.name.startswith(release_store.STAGING_PREFIX) for p in (root / "releases").iterdir())

    monkeypatch.setattr(release_store, "write_file", real_write)
    assert _release(root, instance).success  # the revised release, in a new folder
    current = (root / "published").resolve()
    assert current != previous and _manifest_holds(current) and _manifest_holds(previous)
    assert b"Revised." in (current / publish_defs.GUIDANCE_FILE).read_bytes()
    monkeypatch.setattr(guidance, "data_guidance", real_guidance)
    # the original files again, in a third folder, by a team that keeps two releases: the oldest goes
    again = dg.materialize(
        ALL_ASSETS,
        selection=RELEASE,
        instance=instance,
        resources={
            **_resources(root),
            "data_root": CinDataRoot(root=str(root), keep_releases=2),
            "output_profile": OutputProfile(name="release2020"),
        },
        raise_on_error=False,
    )
    assert again.success and _published(root) == before
    assert release_store.releases(root / "releases") == sorted([current, (root / "published").resolve()])
    assert not previous.exists()  # removed after the switch; the current release is never removed


def test_a_corrupted_year_fails_its_check_and_blocks_publication(released, monkeypatch) -> None:
    root, instance, _, _ = released
    before = _published(root)
    real = publish_defs.protect_year

    def unrounded_england(frames, datasets, config):
        protected = real(frames, datasets, config)
        b1 = protected.published["B1"]
        england = pl.col("geographic_level") == "National"
        protected.published["B1"] = b1.with_columns(
            pl.when(england).then(pl.lit("48")).otherwise(pl.col("At31_episodes")).alias("At31_episodes")
        )
        return protected

    monkeypatch.setattr(publish_defs, "protect_year", unrounded_england)
    result = _run_year(root, instance, 2020, [publish_defs.protect_year_asset])
    assert not result.success
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert any(
        c.asset_key == dg.AssetKey("protected_b1") and c.check_name == "disclosure_schema" for c in failed
    )
    table = next(c for c in failed if c.check_name == "disclosure_schema").metadata["failures_table"].value
    assert "b1_children_in_need_2013_to_2020" in table and "At31_episodes" in table

    blocked = _release(root, instance)
    assert not blocked.success
    assert _published(root) == before  # the published files are untouched

    monkeypatch.setattr(publish_defs, "protect_year", real)
    assert _run_year(root, instance, 2020, [publish_defs.protect_year_asset]).success
    assert _release(root, instance).success
    assert _published(root) == before


def test_a_cell_recoverable_through_a_declared_identity_fails_the_audit_and_blocks_publication(
    released, monkeypatch
) -> None:
    """A suppressor that hides Darlington's children in need at 31 March in every file (with the
    percentages computed from it) but leaves the episodes open at any point and those ending published:
    B1's identity (any point = at 31 March + ended) gives it back exactly, so the blocking audit fails,
    says which cell and why, and the release is not written."""
    root, instance, _, _ = released
    before = _published(root)
    real = publish_defs.protect_year
    at31 = "At31_episodes"

    def hidden_at31(frames, datasets, config):
        protected = real(frames, datasets, config)
        darlington = (pl.col("geographic_level") == "Local authority") & (pl.col("old_la_code") == "841")
        for code, frame in protected.published.items():
            hidden = {i.name for i in datasets[code].counts() if i.measure_id == at31}
            hidden |= {i.name for i in datasets[code].indicators if set(i.depends_on) & hidden}
            if hidden and "old_la_code" in frame.columns:
                protected.published[code] = frame.with_columns(
                    pl.when(darlington).then(pl.lit("c")).otherwise(pl.col(c)).alias(c) for c in hidden
                )
        b1 = protected.published["B1"].filter(darlington)
        assert b1[at31].item() == "c"
        assert b1["Anypoint_episodes"].item() != "c" and b1["Ended_episodes"].item() != "c"
        return protected

    monkeypatch.setattr(publish_defs, "protect_year", hidden_at31)
    result = _run_year(root, instance, 2020, [publish_defs.protect_year_asset])
    assert not result.success
    failed = {c.check_name: c for c in result.get_asset_check_evaluations() if not c.passed}
    assert "disclosure_lp_audit" in failed
    assert set(failed) <= {"disclosure_lp_audit", "disclosure_additive_groups"}  # the files are well formed
    table = failed["disclosure_lp_audit"].metadata["failures_table"].value
    assert "At31_episodes" in table and "exact_disclosure" in table and "[12.0, 12.0]" in table

    assert not _release(root, instance).success
    assert _published(root) == before  # the published files are untouched

    monkeypatch.setattr(publish_defs, "protect_year", real)
    assert _run_year(root, instance, 2020, [publish_defs.protect_year_asset]).success


def _rule_of(instance: dg.DagsterInstance, key: dg.AssetKey, year: int | None = None) -> str:
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=None if year is None else [str(year)]), limit=1
    ).records[0]
    return record.asset_materialization.metadata[publish_defs.RULE_KEY].value


def test_the_suppression_rule_is_the_releases_and_never_mixed(released) -> None:
    """DfE's rule by default; the strict rule says so in the guidance; a release
    refuses years protected under another rule than its own, leaving the published files untouched; the
    same rule again gives the same files byte for byte."""
    root, instance, _, _ = released
    before = _published(root)
    assert _rule_of(instance, publish_defs.REPORT_KEY, 2020) == "dfe"
    assert _rule_of(instance, publish_defs.GUIDANCE_KEY) == "dfe"
    text = before[publish_defs.GUIDANCE_FILE].decode()
    assert "worked out exactly from the published figures, reading every file of the release together" in text

    assert _run_year(root, instance, 2020, [publish_defs.protect_year_asset], rule="strict").success
    assert _rule_of(instance, publish_defs.REPORT_KEY, 2020) == "strict"
    refused = _release(root, instance)
    assert not refused.success
    assert "follows the 'dfe' suppression rule but 2020 under 'strict'" in step_failure(refused)
    refused = _release(root, instance, rule="strict")
    assert "follows the 'strict' suppression rule but 2019 under 'dfe'" in step_failure(refused)
    assert _published(root) == before

    assert _run_year(root, instance, 2019, [publish_defs.protect_year_asset], rule="strict").success
    assert _release(root, instance, rule="strict").success
    strict = _published(root)
    assert "or shown to be below 6, from the published figures" in strict[publish_defs.GUIDANCE_FILE].decode()
    # this staged census has no small counts: the rules publish the same data files
    data = [
        n for n in before if n.endswith(".csv") and n != "manifest.csv"
    ]  # the manifest has the guidance's hash
    assert [strict[n] for n in data] == [before[n] for n in data]

    for year in YEARS:
        assert _run_year(root, instance, year, [publish_defs.protect_year_asset]).success
    assert _release(root, instance).success
    assert _published(root) == before


@pytest.fixture(scope="module")
def released_ees(released, tmp_path_factory: pytest.TempPathFactory):
    """The same protected years published in the ees profile (a copy of the data root)."""
    root, _, _, _ = released
    copy = tmp_path_factory.mktemp("ees") / "data"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("published"))
    instance = dg.DagsterInstance.ephemeral()
    return copy, instance, _release(copy, instance, profile="ees")


def test_ees_profile_publishes_screener_clean_files(released_ees) -> None:
    root, _, result = released_ees
    assert result.success
    folder = root / "published"
    stems = _stems()
    verdicts = {}
    for code, stem in stems.items():
        results = screener.screen_files(folder / f"{stem}.csv", folder / f"{stem}.meta.csv")
        assert not [r for r in results if r.result == "FAIL"], code
        verdicts[code] = screener.summary(results)
        warned = {r.check for r in results if r.result == "WARNING"}
        # what remains are API-only data dictionary warnings, and A7's census ethnic groups without a GSS name
        assert warned <= {"data_dict_col_name", "data_dict_fil_item", "harmonised_eth_vals"}, (code, warned)
    assert "WARNING" in verdicts.values()
    c1 = pl.read_csv(folder / f"{stems['C1']}.csv", infer_schema=False)
    assert set(c1.filter(pl.col("time_period") == "2019")["rereferral_count"]) == {"x"}  # GSS not available
    assert all(c == c.lower() for c in c1.columns)
    a4 = pl.read_csv(folder / f"{stems['A4']}.csv", infer_schema=False)
    assert a4.columns[-3:] == ["age_group", "ethnicity_major", "cin_at31"]
    assert set(a4["ethnicity_major"]) == {
        "Total",
        "White",
        "Mixed / Multiple ethnic groups",
        "Asian / Asian British",
        "Black / African / Caribbean / Black British",
        "Other ethnic group",
        "Unknown",
    }
    # the pivot republishes the protected cells: the Total item is the 2020 layout's CIN_At31
    b1 = pl.read_csv(folder / f"{stems['B1']}.csv", infer_schema=False)
    england = (pl.col("time_period") == "2020") & (pl.col("geographic_level") == "National")
    total = a4.filter(england, pl.col("sex") == "Total", pl.col("age_group") == "Total")
    assert total.filter(pl.col("ethnicity_major") == "Total")["cin_at31"].item() == (
        b1.filter(england)["at31_episodes"].item()
    )
    a1_meta = pl.read_csv(folder / f"{stems['A1']}.meta.csv", infer_schema=False)
    assert a1_meta.filter(pl.col("col_type") == "Filter")["filter_default"].to_list() == [
        "Children in Need",
        "Episodes of need at any point in the year",
    ]
    checks = result.get_asset_check_evaluations()
    assert len(checks) == len(DATASETS) and all(c.passed for c in checks)
    guidance = (folder / publish_defs.GUIDANCE_FILE).read_text()
    assert "- `x`: not available" in guidance and "`rereferral_count`" in guidance


def test_a_screener_failure_blocks_the_release(released_ees, monkeypatch) -> None:
    """A profile whose layout fails the screener (here the legacy symbol without the 2020 layout's
    declaration) writes nothing: the check's FAIL stops the release before any file changes."""
    root, instance, _ = released_ees
    before = _published(root)
    legacy_symbol = dataclasses.replace(profiles.EES, not_available=":")
    monkeypatch.setitem(profiles.PROFILES, "ees", legacy_symbol)
    result = _release(root, instance, profile="ees")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "EES screener fails" in failure.event_specific_data.error.message
    assert _published(root) == before


def test_lineage_runs_from_the_census_to_each_published_file() -> None:
    from cin_assets.definitions import defs

    graph = defs.resolve_asset_graph()

    def ancestors(key: dg.AssetKey) -> set[dg.AssetKey]:
        seen, todo = set(), [key]
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    for code in DATASETS:
        up = ancestors(publish_defs.published_key(code))
        assert measures.measure_key(code) in up
        assert dg.AssetKey("census_returns") in up
    assert lookback.lookback_key("episodes") in ancestors(measures.measure_key("C1"))
    assert {measures.measure_key(c) for c in ("B1", "C1", "C2")} <= graph.get(
        measures.measure_key("A1")
    ).parent_keys


def _root_with_populations(root: Path, tmp_path: Path, edit) -> Path:
    """A data root sharing ``root``'s staged tables, whose reference populations file is edited."""
    other = tmp_path / "data"
    shutil.copytree(root / "reference", other / "reference")
    (other / "staging").symlink_to(root / "staging")
    # both vintages: a year missing from the original one is taken from the revised one
    for vintage in ("original", "revised"):
        path = other / "reference" / f"population_0_17_{vintage}_vintage.csv"
        pl.read_csv(path, infer_schema=False).pipe(edit).write_csv(path)
    return other


def test_the_disclosure_audit_reads_populations_from_the_data_root(released, tmp_path: Path) -> None:
    root, instance, _, _ = released
    year_2020 = pl.col("time_period") == "2020"
    england = year_2020 & (pl.col("geographic_level") == "National")

    def audit(edit) -> dg.AssetCheckEvaluation:
        other = _root_with_populations(root, tmp_path / str(len(list(tmp_path.iterdir()))), edit)
        result = _run_year(other, instance, 2020, [publish_defs.protect_year_asset])
        return next(c for c in result.get_asset_check_evaluations() if c.check_name == "disclosure_lp_audit")

    assert audit(lambda pop: pop).passed  # the resource's own copy: the same figures pass
    # England's 0-17 population set to 1 in the resource's folder: England's published rates are impossible
    tiny = audit(
        lambda pop: pop.with_columns(
            pl.when(england).then(pl.lit("1")).otherwise("population_0_17").alias("population_0_17")
        )
    )
    assert not tiny.passed
    # no populations for 2020: the rate cells cannot be audited, so the check fails instead of skipping them
    missing = audit(lambda pop: pop.filter(~year_2020))
    assert not missing.passed
    assert "population_missing" in missing.metadata["failures_table"].value
    assert "E92000001" in missing.metadata["failures_table"].value
