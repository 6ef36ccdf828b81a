"""The release's "Download all data" ZIP: every data file, its metadata file and the data guidance.

Byte-stable: members in a fixed order, with a fixed timestamp, permissions and compression, so the same
files always give the same archive (and its checksum only changes when a published file does).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

from cin_assets.publish.ees import write_bytes_atomic

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
DATA_FOLDER = "data"
GUIDANCE_FOLDER = "data-guidance"


def zip_bytes(members: Mapping[str, bytes]) -> bytes:
    """A deterministic ZIP of ``members`` (archive path -> content), in sorted path order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below are read the same everywhere
            info.external_attr = 0o100644 << 16
            archive.writestr(info, members[name], compresslevel=9)
    return buffer.getvalue()


def release_members(data_files: Mapping[str, bytes], guidance: bytes, guidance_name: str) -> dict[str, bytes]:
    """Archive layout: ``data/<file>`` for data and metadata files, ``data-guidance/<guidance>``."""
    members = {f"{DATA_FOLDER}/{name}": content for name, content in data_files.items()}
    members[f"{GUIDANCE_FOLDER}/{guidance_name}"] = guidance
    return members


def write_zip(path: Path, members: Mapping[str, bytes]) -> None:
    """Write the archive atomically (temporary file in the same folder, then rename)."""
    write_bytes_atomic(path, zip_bytes(members))
