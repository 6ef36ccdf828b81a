"""Resources: where the data lives, and the parquet IO manager for child-level and per-year tables."""

import os
import tempfile
from pathlib import Path
from typing import overload

import dagster as dg
import polars as pl
import pydantic

from cin_assets import reference
from cin_assets.disclosure import RULES, DisclosureConfig, disclosure_config
from cin_assets.publish.profile import PROFILES, Profile, get_profile


class CinDataRoot(dg.ConfigurableResource):
    """The data root: ``census/<year>/<LA>.xml`` returns, ``reference/``, ``staging/``, ``releases/`` (every
    release), ``published`` (the current one) and ``alerts/``. The code location sets ``root`` to
    ``dg.EnvVar("CIN_DATA_DIR")``: read when a run starts."""

    root: str
    keep_releases: int | None = pydantic.Field(
        default=10,
        ge=1,
        description="How many releases to keep in releases/, the current one included; older ones are "
        "removed after each publish (unset: keep every release).",
    )

    @property
    def path(self) -> Path:
        return Path(self.root)

    @property
    def census_dir(self) -> Path:
        return self.path / "census"

    @property
    def reference_dir(self) -> Path:
        return reference.reference_dir(self.path)

    @property
    def staging_dir(self) -> Path:
        return self.path / "staging"

    @property
    def published_dir(self) -> Path:
        """The current release: a link to one folder of ``releases_dir`` (see cin_assets.publish.release_store)."""
        return self.path / "published"

    @property
    def releases_dir(self) -> Path:
        return self.path / "releases"

    @property
    def alerts_dir(self) -> Path:
        return self.path / "alerts"

    @property
    def release_manifest(self) -> Path:
        """What the last release wrote (profile, years, file names), for the guidance and the ZIP."""
        return self.path / "staging" / "release_manifest.json"


class OutputProfile(dg.ConfigurableResource):
    """The layout of the published files: ``ees`` (today's EES standard, screener-clean) or
    ``release2020`` (the 2020 release's layout, names and symbols). Defaults to ``$CIN_PROFILE`` /
    ``$PROFILE`` as set when the run starts (never at import), else ``ees``; shown and editable in the UI's
    resource and launchpad config."""

    name: str | None = pydantic.Field(
        default=None,
        description=f"Output profile of the published files: one of {', '.join(PROFILES)} "
        "(unset: $CIN_PROFILE or $PROFILE, else ees).",
    )

    @property
    def profile(self) -> Profile:
        return get_profile(self.name)


class SuppressionRule(dg.ConfigurableResource):
    """The secondary-suppression rule every year is protected and checked under: ``dfe`` (no suppressed
    cell can be worked out exactly; rounded regional totals may narrow a lone LA, as in DfE's releases) or
    ``strict`` (nor proven below 6). Defaults to ``$CIN_SUPPRESSION`` as set when the run starts, else
    ``dfe``; a release refuses years protected under another rule than its own."""

    name: str | None = pydantic.Field(
        default=None,
        description=f"Secondary-suppression rule: one of {', '.join(RULES)} (unset: $CIN_SUPPRESSION, else dfe).",
    )

    @property
    def config(self) -> DisclosureConfig:
        return disclosure_config(self.name)


def column_schema(frame: pl.DataFrame) -> dg.TableSchema:
    """The frame's columns and types, for ``dagster/column_schema`` metadata (no values)."""
    return dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in frame.schema.items()])


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write next to the target and rename, so a failed run never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.write_parquet(tmp, statistics=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores each asset (partition) as ``<data root>/staging/<asset key>/<partition>.parquet``.

    Only row counts and column schemas go into metadata: these tables hold child-level data, which must
    never reach the UI. Loading several partitions (a release asset reading every year) gives a dict of
    partition key to frame; a missing upstream partition is skipped with a warning, never invented.
    """

    data_root: CinDataRoot

    def _path(self, key: dg.AssetKey, partition: str | None) -> Path:
        folder = self.data_root.staging_dir.joinpath(*key.path)
        return folder / f"{partition}.parquet" if partition is not None else folder.with_suffix(".parquet")

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        if not isinstance(obj, pl.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}, not a polars DataFrame"
            )
        partition = context.asset_partition_key if context.has_asset_partitions else None
        path = self._path(context.asset_key, partition)
        write_parquet_atomic(obj, path)
        context.add_output_metadata(
            {
                "dagster/row_count": obj.height,
                "dagster/column_schema": column_schema(obj),
                "path": dg.MetadataValue.path(str(path)),  # where the table is (its rows never reach the UI)
            }
        )

    @overload
    def read(self, key: dg.AssetKey, partition: str | None) -> pl.DataFrame: ...
    @overload
    def read(self, key: dg.AssetKey, partition: str | None, missing_ok: bool) -> pl.DataFrame | None: ...
    def read(self, key: dg.AssetKey, partition: str | None, missing_ok: bool = False) -> pl.DataFrame | None:
        """One stored asset (partition), for steps that read their upstream tables themselves (a
        multi-asset reading each staging table once for many outputs); ``None`` if missing and allowed."""
        path = self._path(key, partition)
        if missing_ok and not path.exists():
            return None
        return pl.read_parquet(path)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | dict[str, pl.DataFrame]:
        key = context.asset_key
        if not context.has_asset_partitions:
            return pl.read_parquet(self._path(key, None))
        keys = context.asset_partition_keys
        if len(keys) == 1 and not _wants_mapping(context):
            return pl.read_parquet(self._path(key, keys[0]))
        frames: dict[str, pl.DataFrame] = {}
        missing: list[str] = []
        for partition in sorted(keys):
            path = self._path(key, partition)
            if path.exists():
                frames[partition] = pl.read_parquet(path)
            else:
                missing.append(partition)
        if missing:
            run_year = context.partition_key if context.has_partition_key else "release"
            context.log.warning(
                f"[{run_year}] {key.to_user_string()} has no materialised partition {', '.join(missing)}; skipped"
            )
        return frames


def _wants_mapping(context: dg.InputContext) -> bool:
    """True when the consuming asset is unpartitioned or maps to several upstream partitions (a dict input)."""
    annotation = context.dagster_type.typing_type if context.dagster_type else None
    return annotation is dict or getattr(annotation, "__origin__", None) is dict


def default_resources(root: Path | None = None) -> dict[str, object]:
    """The resources every code location and test uses, rooted at ``root``; without one, at
    ``$CIN_DATA_DIR`` as set when a run starts (so one process can switch data roots between runs)."""
    data_root = CinDataRoot(root=dg.EnvVar("CIN_DATA_DIR") if root is None else str(root))
    return {
        "data_root": data_root,
        "parquet_io": ParquetIOManager(data_root=data_root),
        "output_profile": OutputProfile(),
        "suppression_rule": SuppressionRule(),
    }
