"""The all-or-nothing release: a kill at any moment or a full disk leaves the previous release current and
byte-identical to its manifest."""

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cin_assets.publish import release_store as release


def _files(version: str, n: int = 12) -> dict[str, bytes]:
    return {f"file_{i:02d}.csv": f"{version},{i}\n".encode() * 2000 for i in range(n)}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, Path, release.Release]:
    published, releases_dir = tmp_path / "published", tmp_path / "releases"
    first = release.publish(published, releases_dir, _files("v1"))
    return published, releases_dir, first


def test_publish_stages_verifies_and_switches(previous) -> None:
    published, releases_dir, first = previous
    assert first.changed and published.is_symlink() and release.current(published) == first.path
    assert release.verify(first.path) == []
    assert set(first.manifest) == set(_files("v1"))
    again = release.publish(published, releases_dir, _files("v1"))
    assert not again.changed and again.path == first.path  # the same files: nothing new
    second = release.publish(published, releases_dir, _files("v2"))
    assert release.current(published) == second.path != first.path
    assert release.releases(releases_dir) == sorted([first.path, second.path])
    assert release.verify(first.path) == [] and _snapshot(published) == _snapshot(second.path)


def test_only_the_newest_releases_are_kept(previous) -> None:
    published, releases_dir, first = previous
    written = [first] + [release.publish(published, releases_dir, _files(f"v{i}")) for i in range(2, 6)]
    assert len(release.releases(releases_dir)) == 5  # no bound: every release stays
    newest = release.publish(published, releases_dir, _files("v6"), keep=3)
    kept = set(release.releases(releases_dir))
    assert kept == {written[3].path, written[4].path, newest.path}
    assert release.current(published) == newest.path and release.verify(newest.path) == []
    assert release.prune(published, releases_dir, keep=1) == sorted([written[3].path, written[4].path])
    assert release.releases(releases_dir) == [newest.path]
    with pytest.raises(ValueError, match="at least 1"):
        release.prune(published, releases_dir, keep=0)


def test_a_published_folder_from_before_releases_is_kept_as_a_release(tmp_path: Path) -> None:
    published = tmp_path / "published"
    published.mkdir()
    (published / "old.csv").write_bytes(b"old\n")
    new = release.publish(published, tmp_path / "releases", _files("v1"))
    listed = release.releases(tmp_path / "releases")
    assert len(listed) == 2 and new.path in listed
    legacy = next(p for p in listed if p != new.path)
    assert legacy.name.startswith(release.LEGACY_PREFIX) and (legacy / "old.csv").read_bytes() == b"old\n"


def test_a_full_disk_names_the_file_and_leaves_the_previous_release(previous, monkeypatch) -> None:
    published, releases_dir, first = previous
    before = _snapshot(first.path)
    real_fsync, calls = os.fsync, []

    def disk_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 6:  # the sixth file of the new release
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(release.os, "fsync", disk_full)
    with pytest.raises(
        release.ReleaseError, match=r"could not write file_05\.csv \(.*\): No space left on device"
    ):
        release.publish(published, releases_dir, _files("v2"))
    monkeypatch.setattr(release.os, "fsync", real_fsync)
    assert release.current(published) == first.path
    assert _snapshot(first.path) == before and release.verify(first.path) == []
    assert sorted(releases_dir.iterdir()) == [first.path]  # the staged files are gone


_PUBLISHER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from cin_assets.publish import release_store as release

    stop_at = sys.argv[2]
    real_write, real_rename, real_switch = release.write_file, os.rename, release._switch

    def pause(moment):
        if moment == stop_at:
            print(moment, flush=True)
            time.sleep(60)

    def write(path, data):
        pause(path.name)
        real_write(path, data)

    def rename(src, dst):
        real_rename(src, dst)
        pause("renamed")

    def switch(published, target):
        pause("switching")
        real_switch(published, target)

    release.write_file, release.os.rename, release._switch = write, rename, switch
    root = Path(sys.argv[1])
    files = {f"file_{i:02d}.csv": f"v2,{i}\\n".encode() * 2000 for i in range(12)}
    release.publish(root / "published", root / "releases", files)
    """
)


@pytest.mark.parametrize("moment", ["file_00.csv", "file_07.csv", release.MANIFEST, "renamed", "switching"])
def test_a_kill_at_any_moment_leaves_the_previous_release_byte_identical(previous, moment: str) -> None:
    published, releases_dir, first = previous
    before = _snapshot(first.path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _PUBLISHER, str(published.parent), moment], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == moment  # the publisher is paused at that moment
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert release.current(published) == first.path
    assert _snapshot(first.path) == before
    for name, digest in release.read_manifest(first.path).items():
        assert release.sha256((first.path / name).read_bytes()) == digest
    assert release.verify(first.path) == []
    # the next publish completes, and both releases stay listed and whole
    second = release.publish(published, releases_dir, _files("v3"))
    assert release.current(published) == second.path and release.verify(second.path) == []
    assert first.path in release.releases(releases_dir) and release.verify(first.path) == []
