"""The embedded default database: a private PostgreSQL + TimescaleDB cluster.

``hj212 db up`` creates it once in a home directory (default ``./var/pg``) and starts
it on 127.0.0.1, on a free port unless one is configured. Layout of the home::

    cluster.json   port, the owner's and the application's passwords, data directory
                   (mode 0600)
    data/          PGDATA (owned by the unprivileged OS user ``hj212`` when run as root)
    run/           the server's unix socket directory
    postgres.log   the server's log

(``data/``, ``run/`` and the log move to ``/var/lib/hj212/clusters/<id>/`` when the
server's OS user cannot reach the home, e.g. a checkout under ``/root``.)

Two database roles: the bootstrap superuser ``hj212`` owns the schema and runs the
migrations (:meth:`Cluster.owner_url`); the application connects as ``hj212_app``, which
may only insert into the evidence tables (:mod:`storage.roles`, :mod:`ops.roles`,
:meth:`Cluster.url`).

PostgreSQL refuses to run as root, so when invoked as root every server command runs
as the OS user ``hj212`` (created if missing). A production deployment does not use
this at all: it sets ``HJ212_DSN`` to its own TimescaleDB.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from ops import roles as dsns
from ops.install import InstallError, Postgres, find_postgres
from storage import roles, server

OS_USER = "hj212"
DB_USER = "hj212"
DB_NAME = "hj212"

_SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_preload_libraries": "'timescaledb'",
    "timescaledb.telemetry_level": "off",
    "max_connections": "200",
    "shared_buffers": "'512MB'",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "logging_collector": "off",
}


class ClusterError(RuntimeError):
    """Raised when the embedded cluster cannot be created, started or stopped."""


@dataclass
class State:
    port: int
    password: str  # the owner's (bootstrap superuser)
    data_dir: str
    app_password: str = ""  # hj212_app's; clusters made before it get one at the next up

    @property
    def dsn(self) -> str:
        """The owner's DSN: migrations, retention, maintenance."""
        return f"postgresql://{DB_USER}:{quote(self.password)}@127.0.0.1:{self.port}/{DB_NAME}"

    @property
    def app_dsn(self) -> str:
        """The application's DSN (role ``hj212_app``)."""
        return dsns.with_login(self.dsn, roles.APP_ROLE, self.app_password)


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    dsn: str | None
    data_dir: Path | None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # as PostgreSQL binds: connections of the last run in TIME_WAIT do not block it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Cluster:
    """A private PostgreSQL cluster living in ``home``."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home = home.absolute()
        self.configured_port = port
        self.state_file = self.home / "cluster.json"

    # -- public operations -------------------------------------------------------
    def up(self) -> str:
        """Create the cluster if needed, start it if stopped; return the owner's DSN
        (migrate with it; the application uses :meth:`url`)."""
        pg = self._postgres()
        state = self._load() or self._create(pg)
        if not self._running(state):
            state = self._start(pg, state)
        if not state.app_password:
            state.app_password = secrets.token_urlsafe(18)
            self._save(state)
        self._ensure_database(state)
        return state.dsn

    def down(self) -> bool:
        """Stop the server; True if it was running."""
        state = self._load()
        if state is None or not self._running(state):
            return False
        pg = self._postgres()
        self._as_owner(
            [str(pg.bindir / "pg_ctl"), "-D", state.data_dir, "-m", "fast", "-w", "stop"]
        )
        return True

    def status(self) -> Status:
        state = self._load()
        if state is None:
            return Status(False, None, None, None)
        pid = self._pid(state)
        dsn = state.app_dsn if state.app_password else state.dsn
        return Status(pid is not None, pid, dsn, Path(state.data_dir))

    def url(self) -> str | None:
        """The application's DSN (None before the first ``up``)."""
        state = self._load()
        return None if state is None or not state.app_password else state.app_dsn

    def owner_url(self) -> str | None:
        """The owner's DSN, for migrations and maintenance."""
        state = self._load()
        return None if state is None else state.dsn

    # -- internals ---------------------------------------------------------------
    def _postgres(self) -> Postgres:
        pg = find_postgres()
        if pg is None:
            raise ClusterError("no PostgreSQL server installed: run `hj212 db install` first")
        if not pg.has_timescaledb():
            raise ClusterError(
                f"TimescaleDB is not installed for PostgreSQL {pg.major}: run `hj212 db install`"
            )
        return pg

    def _load(self) -> State | None:
        if not self.state_file.exists():
            return None
        data = json.loads(self.state_file.read_text())
        return State(
            int(data["port"]),
            str(data["password"]),
            str(data["data_dir"]),
            str(data.get("app_password", "")),
        )

    def _save(self, state: State) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.__dict__, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)

    def _owner(self) -> pwd.struct_passwd | None:
        """The OS user that runs the server: None means the current user."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(OS_USER)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    OS_USER,
                ],
                check=True,
            )
            return pwd.getpwnam(OS_USER)

    def _as_owner(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        owner = self._owner()
        cmd = argv if owner is None else ["runuser", "-u", owner.pw_name, "--", *argv]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
        if check and result.returncode != 0:
            raise ClusterError(f"`{' '.join(argv)}` failed:\n{result.stdout}{result.stderr}")
        return result

    def _data_dir_for(self, owner: pwd.struct_passwd | None) -> Path:
        """``home/data``, unless the server's OS user cannot reach it (e.g. under /root)."""
        preferred = self.home / "data"
        if owner is None:
            return preferred
        probe = self._as_owner(["test", "-x", str(self.home)], check=False)
        if probe.returncode == 0:
            return preferred
        slug = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        fallback = Path("/var/lib/hj212/clusters") / slug / "data"
        print(
            f"[hj212 db] {self.home} is not reachable by OS user {OS_USER}; "
            f"keeping PGDATA in {fallback}"
        )
        return fallback

    def _create(self, pg: Postgres) -> State:
        owner = self._owner()
        self.home.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            os.chown(self.home, owner.pw_uid, owner.pw_gid)
        data_dir = self._data_dir_for(owner)
        if data_dir.exists() and any(data_dir.iterdir()):
            shutil.rmtree(data_dir)  # a half-created cluster from an interrupted run
        data_dir.mkdir(parents=True, exist_ok=True)
        runtime = data_dir.parent  # home, or the fallback the server's OS user can reach
        (runtime / "run").mkdir(exist_ok=True)
        password = secrets.token_urlsafe(18)
        pwfile = runtime / ".pwfile"
        pwfile.write_text(password + "\n")
        if owner is not None:
            for path in (runtime, data_dir, runtime / "run", pwfile):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        pwfile.chmod(0o600)
        try:
            self._as_owner(
                [
                    str(pg.bindir / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    DB_USER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# hj212 embedded cluster\n")
            for key, value in _SERVER_SETTINGS.items():
                conf.write(f"{key} = {value}\n")
            conf.write(f"unix_socket_directories = '{runtime / 'run'}'\n")
        state = State(self.configured_port or _free_port(), password, str(data_dir))
        self._save(state)
        return state

    def _pid(self, state: State) -> int | None:
        pidfile = Path(state.data_dir) / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def _running(self, state: State) -> bool:
        return self._pid(state) is not None

    def _start(self, pg: Postgres, state: State) -> State:
        if self.configured_port and self.configured_port != state.port:
            state.port = self.configured_port
        if not _port_free(state.port):
            if self.configured_port:
                raise ClusterError(f"configured port {state.port} on 127.0.0.1 is in use")
            state.port = _free_port()
        self._save(state)
        log = Path(state.data_dir).parent / "postgres.log"
        owner = self._owner()
        log.touch()
        if owner is not None:
            os.chown(log, owner.pw_uid, owner.pw_gid)
        self._as_owner(
            [
                str(pg.bindir / "pg_ctl"),
                "-D",
                state.data_dir,
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {state.port}",
                "start",
            ]
        )
        return state

    def _ensure_database(self, state: State) -> None:
        admin = state.dsn.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            server.ensure_database(conn, DB_NAME)
            roles.ensure_login(conn, state.app_password)


__all__ = ["Cluster", "ClusterError", "InstallError", "State", "Status"]
