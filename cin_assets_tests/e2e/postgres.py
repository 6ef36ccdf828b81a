"""A private PostgreSQL server for the tests: Debian's ``postgresql`` binaries, a throwaway cluster on a
free localhost port with its own socket folder, stopped and deleted afterwards.

PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user and every
server command runs through ``runuser``. Missing binaries fail the test with the install command (CI
installs the package in ``.ci/run``): nothing is skipped silently.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cin_assets_tests.e2e.harness import free_port

INSTALL_HINT = "install it with `apt-get install -y postgresql` (.ci/run does this on CI)"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    db_name: str
    user: str
    password: str

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.postgres.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.db_name,
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
        }


def server_binaries() -> Path:
    """The newest installed PostgreSQL server's bin folder; raises with the install command if none."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise FileNotFoundError(
            f"PostgreSQL server binaries not found under /usr/lib/postgresql: {INSTALL_HINT}"
        )
    return found[-1].parent


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise FileNotFoundError(f"no `postgres` user to run the server as: {INSTALL_HINT}") from exc
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str]) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """Start a fresh cluster with a ``dagster`` role (password login over TCP) and database."""
    binaries = server_binaries()
    base = Path(tempfile.mkdtemp(prefix="cin-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        uid, gid = pwd.getpwnam("postgres")[2:4]
        for folder in (base, sockets):
            os.chown(folder, uid, gid)
    port, password = free_port(), secrets.token_urlsafe(16)
    pg_ctl = str(binaries / "pg_ctl")
    try:
        _run(
            [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
             "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"]
        )  # fmt: skip
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            [
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        psql = [str(binaries.parent / "bin" / "psql") if (binaries / "psql").exists() else "psql"]
        for sql in (
            f"CREATE ROLE dagster LOGIN PASSWORD '{password}'",
            "CREATE DATABASE dagster OWNER dagster",
        ):
            _run(
                [
                    *psql,
                    "-h",
                    str(sockets),
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    sql,
                ]
            )
        yield Postgres("127.0.0.1", port, "dagster", "dagster", password)
    finally:
        if (data / "postmaster.pid").exists():
            _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)
