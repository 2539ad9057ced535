"""A throwaway PostgreSQL server for the test session.

``start_postgres()`` either uses the server described by ``TEST_DB_HOST``/``TEST_DB_PORT``/
``TEST_DB_USER``/``TEST_DB_PASSWORD``/``TEST_DB_NAME`` or initialises a fresh cluster in a
temporary directory (owned by the ``postgres`` system user when running as root, since
PostgreSQL refuses to run as root), listening on 127.0.0.1 only, with durability off.
It never skips: without PostgreSQL binaries it raises :class:`RuntimeError`.

A fresh cluster trusts every connection from 127.0.0.1 except :data:`PASSWORD_ROLE`'s, which
must give its password: for tests of a wrong one. (An external server is expected to
check passwords for its own role.)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

ROLE = "vizteh"
PASSWORD = "vizteh"
DATABASE = "vizteh_test"
PASSWORD_ROLE = ("vizteh_password", "the-right-password")
_ENV_VARS = ("TEST_DB_HOST", "TEST_DB_PORT", "TEST_DB_USER", "TEST_DB_PASSWORD", "TEST_DB_NAME")


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    data_dir: Path | None = None  # None: an external server we must not stop
    # A role (name, password) whose password the server checks.
    password_role: tuple[str, str] | None = None
    bin_dir: Path | None = field(default=None, repr=False)
    _run_as: str | None = field(default=None, repr=False)

    def dsn(self, database: str | None = None) -> str:
        """libpq/asyncpg URL, e.g. ``postgresql://vizteh:vizteh@127.0.0.1:5433/vizteh_test``."""
        db = database or self.database
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{db}"

    def sqlalchemy_url(self, database: str | None = None) -> str:
        """The same for SQLAlchemy's asyncpg dialect (``postgresql+asyncpg://...``)."""
        return self.dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)

    async def create_database(self, name: str) -> str:
        """Create an empty database ``name`` owned by :attr:`user` (dropping any old one);
        returns its asyncpg DSN."""
        await self.drop_database(name)
        await self._admin(f'CREATE DATABASE "{name}" OWNER "{self.user}"')
        return self.dsn(name)

    async def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions."""
        if name == self.database:
            raise ValueError("refusing to drop the main test database")
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(self.dsn())
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def stop(self) -> None:
        """Stop a server we started (``pg_ctl stop -m fast``) and delete its directory."""
        if self.data_dir is None or self.bin_dir is None:
            return
        data_dir, self.data_dir = self.data_dir, None
        with contextlib.suppress(RuntimeError):
            _run([str(self.bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "stop"],
                 self._run_as)  # fmt: skip
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """An external server from ``TEST_DB_*`` if ``TEST_DB_HOST`` is set, else a new one."""
    if os.environ.get("TEST_DB_HOST"):
        server = PostgresServer(
            host=os.environ["TEST_DB_HOST"],
            port=int(os.environ.get("TEST_DB_PORT", "5432")),
            user=os.environ.get("TEST_DB_USER", ROLE),
            password=os.environ.get("TEST_DB_PASSWORD", PASSWORD),
            database=os.environ.get("TEST_DB_NAME", DATABASE),
        )
        server.password_role = (server.user, server.password)
        return server
    bin_dir = find_postgres_bin()
    run_as = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="vizteh-pg-"))
    data_dir = root / "data"
    server: PostgresServer | None = None
    try:
        data_dir.mkdir()
        if run_as is not None:
            account = pwd.getpwnam(run_as)
            for path in (root, data_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        superuser = run_as or pwd.getpwuid(os.geteuid()).pw_name
        _run(
            [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", superuser, "-A", "trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            run_as,
        )  # fmt: skip
        hba = data_dir / "pg_hba.conf"
        # The first matching line wins: this role alone must give its password.
        checked = f"host all {PASSWORD_ROLE[0]} 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(checked + hba.read_text())
        port = _start_cluster(bin_dir, data_dir, root, run_as)
        server = PostgresServer(
            "127.0.0.1", port, ROLE, PASSWORD, DATABASE, data_dir, PASSWORD_ROLE, bin_dir
        )
        server._run_as = run_as
        atexit.register(server.stop)
        psql = [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", superuser,
                "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]  # fmt: skip
        _run([*psql, "-c", f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'"], None)
        _run([*psql, "-c", f"CREATE DATABASE {DATABASE} OWNER {ROLE}"], None)
        role, password = PASSWORD_ROLE
        _run([*psql, "-c", f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"], None)
    except BaseException:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def find_postgres_bin() -> Path:
    """Directory with initdb/pg_ctl: ``$PG_BIN``, the newest /usr/lib/postgresql/*/bin,
    or wherever ``pg_ctl`` is on PATH."""
    candidates: list[Path] = []
    if env := os.environ.get("PG_BIN"):
        candidates.append(Path(env))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    if on_path := shutil.which("pg_ctl"):
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL, set PG_BIN, "
        "or point TEST_DB_HOST/TEST_DB_PORT/TEST_DB_USER/TEST_DB_PASSWORD/TEST_DB_NAME "
        "at an existing server"
    )


def _start_cluster(bin_dir: Path, data_dir: Path, root: Path, run_as: str | None) -> int:
    """Start the cluster on a free port (retrying if another process grabs it first)."""
    last_error: RuntimeError | None = None
    for _ in range(3):
        port = _free_port()
        options = (
            f"-h 127.0.0.1 -p {port} -k {root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        command = [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l", str(root / "server.log"),
                   "-o", options, "-w", "-t", "30", "start"]  # fmt: skip
        try:
            _run(command, run_as)
        except RuntimeError as exc:
            last_error = exc
            continue
        return port
    log = root / "server.log"
    details = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"PostgreSQL did not start: {last_error}\n{details}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str], run_as: str | None) -> None:
    if run_as is not None:
        command = ["runuser", "-u", run_as, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd="/")
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise RuntimeError(f"{' '.join(command)} failed with code {result.returncode}: {output}")


__all__ = [
    "DATABASE",
    "PASSWORD",
    "PASSWORD_ROLE",
    "ROLE",
    "PostgresServer",
    "find_postgres_bin",
    "start_postgres",
]
