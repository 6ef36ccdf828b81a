"""One data set's published pair under an output profile, screened before anything is written.

``lay_out`` turns a data set's protected rows of every published year into what the release writes:
the description as published (profile names and layout, file name and title stating the years actually
published), the data and metadata file bytes, and the EES screener's verdicts on exactly those bytes.
A screener FAIL that the profile does not declare (``Profile.accepts``) blocks the release.

The release manifest records what was written (profile, years, file names) so the guidance and the ZIP
describe and bundle the same files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cin_assets.datasets.description import DataSet
from cin_assets.publish import ees, screener
from cin_assets.publish.profile import Profile, get_profile, published, published_frame, with_years


@dataclass(frozen=True)
class PublishedPair:
    """``description``: as published; ``files``: data file then metadata file (name -> bytes);
    ``screening``: every screener check (empty when the data set has no rows in the release);
    ``blocking``: the FAILs the profile does not accept."""

    code: str
    description: DataSet
    frame: pl.DataFrame
    files: dict[str, bytes]
    screening: tuple[screener.Result, ...]
    blocking: tuple[screener.Result, ...]

    @property
    def verdict(self) -> str:
        if not self.screening:
            return "NOT SCREENED"
        return screener.summary(self.screening)


def published_years(ds: DataSet, frame: pl.DataFrame) -> tuple[int, int] | None:
    """The first and last reporting year with rows in ``frame`` (None when it has no rows)."""
    if frame.is_empty():
        return None
    periods = frame.get_column("time_period").cast(pl.Int64)
    return int(periods.min()) - ds.period_offset, int(periods.max()) - ds.period_offset  # type: ignore[arg-type]


def described(ds: DataSet, years: tuple[int, int] | None, profile: Profile) -> DataSet:
    """``ds`` as ``profile`` publishes it for reporting years ``years`` (unchanged years when None)."""
    return published(with_years(ds, *years) if years else ds, profile)


def lay_out(ds: DataSet, frame: pl.DataFrame, profile: Profile) -> PublishedPair:
    """The published pair of ``ds`` from its protected release ``frame`` (description columns)."""
    out_ds = described(ds, published_years(ds, frame), profile)
    out = published_frame(ds, frame, profile)
    files = ees.data_set_files(out_ds, out)
    data_name, meta_name = ees.data_file_name(out_ds), ees.meta_file_name(out_ds)
    results: tuple[screener.Result, ...] = ()
    if out.height:
        results = tuple(screener.screen(data_name, files[data_name], meta_name, files[meta_name]))
    blocking = tuple(r for r in results if r.result == "FAIL" and not profile.accepts(r, ds))
    return PublishedPair(ds.code, out_ds, out, files, results, blocking)


def manifest_bytes(pairs: Mapping[str, PublishedPair], profile: Profile) -> bytes:
    """What the release wrote: the profile and, per data set, its years and file names."""
    data = {
        "profile": profile.name,
        "data_sets": {
            code: {
                "first_year": p.description.first_year,
                "last_year": p.description.last_year,
                "files": list(p.files),
            }
            for code, p in pairs.items()
        },
    }
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class Manifest:
    profile: Profile
    datasets: dict[str, DataSet]
    files: list[str]


def read_manifest(path: Path, datasets: Mapping[str, DataSet]) -> Manifest:
    """The published descriptions and file names of the release recorded at ``path``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    profile = get_profile(data["profile"])
    described_sets = {
        code: described(datasets[code], (entry["first_year"], entry["last_year"]), profile)
        for code, entry in data["data_sets"].items()
    }
    files = [name for entry in data["data_sets"].values() for name in entry["files"]]
    return Manifest(profile, described_sets, files)


def screening_markdown(pair: PublishedPair) -> str:
    """The screener's non-PASS verdicts on one pair as a markdown table (names and rules only)."""
    lines = ["| check | stage | result | message |", "|---|---|---|---|"]
    for r in pair.screening:
        if r.result == "PASS":
            continue
        accepted = " (accepted: 2020 layout)" if r.result == "FAIL" and r not in pair.blocking else ""
        message = r.message.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r.check} | {r.stage} | {r.result}{accepted} | {message} |")
    if len(lines) == 2:
        lines.append(f"| all {len(pair.screening)} checks | | PASS | |")
    return "\n".join(lines)
