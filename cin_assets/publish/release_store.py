"""An all-or-nothing release: every file is staged in a new release folder, verified, then made current in
one atomic step, so readers only ever see a complete release.

Layout under the data root::

    releases/<id>/          one folder per release: the data files, their .meta.csv, the guidance, the ZIP
                            and ``manifest.csv`` (file, bytes, sha256 of every other file)
    releases/.staging-*     a release being written (a killed publish leaves one; the next publish clears it)
    published -> releases/<id>   the current release: a symbolic link, replaced atomically (``rename(2)``)

A kill at any moment leaves ``published`` pointing at the previous release, which is never written to again;
a failed write (a full disk) removes the staging folder and raises :class:`ReleaseError` naming the file and
the cause. The release id is the UTC time of publication and the manifest's digest; publishing the same
files as the current release changes nothing. After a switch, releases beyond the ``keep`` newest are
removed, oldest first; the current release is never one of them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MANIFEST = "manifest.csv"
STAGING_PREFIX = ".staging-"
LEGACY_PREFIX = "legacy-"
STALE_STAGING_SECONDS = 3600  # a staging folder untouched this long belongs to a killed publish


class ReleaseError(RuntimeError):
    """A release could not be written; the current release is unchanged."""


@dataclass(frozen=True)
class Release:
    """A complete release folder and whether publishing it changed the current release."""

    path: Path
    manifest: dict[str, str]  # file name -> sha256
    changed: bool

    @property
    def id(self) -> str:
        return self.path.name


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(files: Mapping[str, bytes]) -> bytes:
    """``file,bytes,sha256`` for every file, sorted by name (deterministic: no dates)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("file", "bytes", "sha256"))
    for name in sorted(files):
        writer.writerow((name, len(files[name]), sha256(files[name])))
    return buffer.getvalue().encode()


def read_manifest(folder: Path) -> dict[str, str]:
    """File name -> sha256 from ``folder``'s manifest (empty if it has none, as a pre-manifest release)."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {row["file"]: row["sha256"] for row in csv.DictReader(fh)}


def verify(folder: Path) -> list[str]:
    """Problems with a release folder: files missing, extra, or whose sha256 differs from the manifest."""
    manifest = read_manifest(folder)
    if not manifest:
        return [f"{folder / MANIFEST}: missing or empty"]
    present = {p.name for p in folder.iterdir() if p.is_file()} - {MANIFEST}
    problems = [f"{folder / n}: listed in the manifest but missing" for n in sorted(set(manifest) - present)]
    problems += [f"{folder / n}: not listed in the manifest" for n in sorted(present - set(manifest))]
    for name in sorted(set(manifest) & present):
        if sha256((folder / name).read_bytes()) != manifest[name]:
            problems.append(f"{folder / name}: sha256 differs from the manifest")
    return problems


def current(published: Path) -> Path | None:
    """The current release folder (where ``published`` points), or None before the first release."""
    return published.resolve() if published.is_symlink() else None


def releases(releases_dir: Path) -> list[Path]:
    """Every complete release folder, oldest first (staging folders are not releases)."""
    if not releases_dir.is_dir():
        return []
    return sorted(
        (p for p in releases_dir.iterdir() if p.is_dir() and not p.name.startswith(STAGING_PREFIX)),
        key=lambda p: p.name,
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Write one file and flush it to disk (a release is only switched to once every file is on disk)."""
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _stage_file(path: Path, data: bytes) -> None:
    try:
        write_file(path, data)
    except OSError as exc:
        raise ReleaseError(f"could not write {path.name} ({path}): {exc.strerror or exc}") from exc


def _clear_stale_staging(releases_dir: Path, now: float) -> None:
    for folder in releases_dir.glob(f"{STAGING_PREFIX}*"):
        if now - folder.stat().st_mtime > STALE_STAGING_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)


def _adopt_legacy(published: Path, releases_dir: Path) -> None:
    """A ``published`` folder from before versioned releases becomes a listed release of its own."""
    if published.is_dir() and not published.is_symlink():
        stamp = datetime.fromtimestamp(published.stat().st_mtime, UTC).strftime("%Y%m%dT%H%M%SZ")
        os.rename(published, releases_dir / f"{LEGACY_PREFIX}{stamp}")


def _switch(published: Path, target: Path) -> None:
    """Point ``published`` at ``target`` in one rename (a relative link, so the data root can move)."""
    link = published.with_name(f".{published.name}.{uuid.uuid4().hex}.tmp")
    os.symlink(os.path.relpath(target, published.parent), link)
    try:
        os.replace(link, published)
    finally:
        if link.is_symlink():
            link.unlink()
    _fsync_dir(published.parent)


def prune(published: Path, releases_dir: Path, keep: int) -> list[Path]:
    """Remove the oldest releases so that ``keep`` remain (at least the current one); returns what went.

    Old releases are kept so a team can compare or restore one; without a bound the data root grows by a
    whole release at every publish."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (the current release), not {keep}")
    now = current(published)
    # by when each was written: names sort by second, and a legacy folder's name sorts after the rest
    older = sorted((p for p in releases(releases_dir) if p != now), key=lambda p: p.stat().st_mtime_ns)
    gone = older[: max(0, len(older) - (keep - 1))]
    for folder in gone:
        shutil.rmtree(folder)
    return gone


def publish(
    published: Path,
    releases_dir: Path,
    files: Mapping[str, bytes],
    keep: int | None = None,
) -> Release:
    """Stage ``files`` (name -> bytes) and a manifest in a new release folder, verify every file against
    the manifest, then make it current, then keep only the ``keep`` newest releases (all when None). Until
    the switch the current release is untouched; on any failure the staging folder is removed and
    :class:`ReleaseError` names the file and the cause."""
    if MANIFEST in files:
        raise ValueError(f"{MANIFEST} is written by the release itself")
    manifest = manifest_bytes(files)
    digest = sha256(manifest)
    releases_dir.mkdir(parents=True, exist_ok=True)
    previous = current(published)
    if (
        previous is not None
        and (previous / MANIFEST).exists()
        and (previous / MANIFEST).read_bytes() == manifest
        and not verify(previous)
    ):
        return Release(previous, read_manifest(previous), changed=False)
    now = time.time()
    _clear_stale_staging(releases_dir, now)
    release_id = f"{datetime.fromtimestamp(now, UTC).strftime('%Y%m%dT%H%M%SZ')}-{digest[:12]}"
    staging = releases_dir / f"{STAGING_PREFIX}{release_id}-{uuid.uuid4().hex[:8]}"
    final = releases_dir / release_id
    staging.mkdir()
    try:
        for name in sorted(files):
            _stage_file(staging / name, files[name])
        _stage_file(staging / MANIFEST, manifest)
        problems = verify(staging)
        if problems:
            raise ReleaseError(f"the staged release does not match its manifest: {'; '.join(problems)}")
        _fsync_dir(staging)
        os.rename(staging, final)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ReleaseError(f"could not stage the release in {staging}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        _fsync_dir(releases_dir)
        _adopt_legacy(published, releases_dir)
        _switch(published, final)
    except OSError as exc:
        shutil.rmtree(final, ignore_errors=True)  # complete but never current: not a release
        raise ReleaseError(f"could not make {final} the current release: {exc.strerror or exc}") from exc
    if keep is not None:
        prune(published, releases_dir, keep)
    return Release(final, read_manifest(final), changed=True)
