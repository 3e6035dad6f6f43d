"""Make PostgreSQL and the TimescaleDB extension available on a Debian machine.

``hj212 db install`` runs :func:`ensure_timescaledb`. The order of preference is:

1. what is already installed (a ``timescaledb.control`` file and the loader library
   next to the installed PostgreSQL major version): nothing to do;
2. a distribution package built for that major version
   (``postgresql-NN-timescaledb`` from Debian, ``timescaledb-2-postgresql-NN`` from
   Timescale's own repository), if apt has a candidate;
3. the Apache-2 edition built from Debian's own ``timescaledb`` source package
   against the installed PostgreSQL. Debian 12 has no TimescaleDB at all, so a
   ``deb-src`` entry for Debian 13 (trixie) is added when no source is known; a
   ``deb-src`` line never changes which binaries apt installs.

Every step says what it does. Root is needed for apt and for installing into
PostgreSQL's directories; when not root, ``sudo -n`` is used if it works, otherwise
the step fails with a message saying how to run it.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SOURCE_SUITE = "trixie"
SOURCES_FILE = Path("/etc/apt/sources.list.d/hj212-timescaledb-src.sources")
CMAKE_OPTIONS = (
    "-DAPACHE_ONLY=ON",
    "-DREGRESS_CHECKS=OFF",
    "-DTAP_CHECKS=OFF",
    "-DUSE_OPENSSL=OFF",
    "-DSEND_TELEMETRY_DEFAULT=OFF",
    "-DCMAKE_BUILD_TYPE=Release",
)


class InstallError(RuntimeError):
    """Raised when PostgreSQL or TimescaleDB cannot be made available; says why."""


@dataclass(frozen=True)
class Postgres:
    """An installed PostgreSQL server (Debian layout)."""

    major: int
    bindir: Path

    @property
    def sharedir(self) -> Path:
        return Path(f"/usr/share/postgresql/{self.major}")

    @property
    def pkglibdir(self) -> Path:
        return Path(f"/usr/lib/postgresql/{self.major}/lib")

    def has_timescaledb(self) -> bool:
        control = self.sharedir / "extension" / "timescaledb.control"
        return control.exists() and (self.pkglibdir / "timescaledb.so").exists()


def say(message: str) -> None:
    print(f"[hj212 db install] {message}", file=sys.stderr, flush=True)


def find_postgres() -> Postgres | None:
    """The newest PostgreSQL server installed under /usr/lib/postgresql, or None."""
    found: list[Postgres] = []
    for postgres in glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        bindir = Path(postgres).parent
        major = bindir.parent.name
        if major.isdigit():
            found.append(Postgres(int(major), bindir))
    return max(found, key=lambda p: p.major) if found else None


def _privileged(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return argv
    if (
        shutil.which("sudo")
        and subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0
    ):
        return ["sudo", "-n", *argv]
    raise InstallError(
        f"`{' '.join(argv)}` needs root; run `sudo hj212 db install` once, "
        "or install PostgreSQL and TimescaleDB yourself and set HJ212_DSN"
    )


def _run(argv: list[str], *, root: bool = False, cwd: Path | None = None) -> None:
    cmd = _privileged(argv) if root else argv
    say("$ " + " ".join(cmd))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(cmd, cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        raise InstallError(f"`{' '.join(cmd)}` failed with exit status {result.returncode}")


def _apt_candidate(package: str) -> str | None:
    out = subprocess.run(
        ["apt-cache", "policy", package], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"Candidate:\s*(\S+)", out)
    if match is None or match.group(1) == "(none)":
        return None
    return match.group(1)


def _apt_update() -> None:
    _run(["apt-get", "update", "-q"], root=True)


def ensure_postgres() -> Postgres:
    pg = find_postgres()
    if pg is not None:
        say(f"PostgreSQL {pg.major} is installed ({pg.bindir})")
        return pg
    if shutil.which("apt-get") is None:
        raise InstallError("no PostgreSQL server found and no apt-get to install one")
    say("no PostgreSQL server found: installing Debian's `postgresql`")
    _apt_update()
    _run(["apt-get", "install", "-y", "-q", "postgresql", "postgresql-contrib"], root=True)
    pg = find_postgres()
    if pg is None:
        raise InstallError("installed `postgresql` but found no server under /usr/lib/postgresql")
    return pg


def _try_distribution_package(pg: Postgres) -> bool:
    for package in (f"postgresql-{pg.major}-timescaledb", f"timescaledb-2-postgresql-{pg.major}"):
        version = _apt_candidate(package)
        if version is not None:
            say(f"installing distribution package {package} {version}")
            _run(["apt-get", "install", "-y", "-q", package], root=True)
            return pg.has_timescaledb()
        say(f"no distribution package {package} for PostgreSQL {pg.major}")
    return False


def _ensure_source_entry() -> None:
    probe = subprocess.run(
        ["apt-cache", "showsrc", "timescaledb"], capture_output=True, text=True, check=False
    )
    if "Package: timescaledb" in probe.stdout:
        return
    say(f"adding a deb-src entry for Debian {SOURCE_SUITE} (sources only, no binaries)")
    entry = (
        "Types: deb-src\nURIs: http://deb.debian.org/debian\n"
        f"Suites: {SOURCE_SUITE}\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
    _run(["sh", "-c", f"printf '%s' '{entry}' > {SOURCES_FILE}"], root=True)
    _apt_update()


def _build_from_source(pg: Postgres, workdir: Path) -> None:
    _ensure_source_entry()
    deps = ["cmake", "make", "gcc", "dpkg-dev", f"postgresql-server-dev-{pg.major}"]
    say("installing build dependencies: " + " ".join(deps))
    _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *deps], root=True)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    say(f"fetching Debian's timescaledb source package into {workdir}")
    _run(["apt-get", "source", "-q", "--only-source", "timescaledb"], cwd=workdir)
    sources = [p for p in workdir.iterdir() if p.is_dir() and p.name.startswith("timescaledb-")]
    if not sources:
        raise InstallError(f"apt-get source produced no timescaledb-* directory in {workdir}")
    src = sources[0]
    build = src / "build"
    pg_config = str(pg.bindir / "pg_config")
    say(f"building {src.name} (Apache-2 edition) against PostgreSQL {pg.major}")
    _run(["cmake", "-S", str(src), "-B", str(build), f"-DPG_CONFIG={pg_config}", *CMAKE_OPTIONS])
    _run(["cmake", "--build", str(build), "--parallel", str(os.cpu_count() or 2)])
    _run(["cmake", "--install", str(build)], root=True)


def ensure_timescaledb(workdir: Path) -> Postgres:
    """Make sure PostgreSQL and TimescaleDB are installed; return the server found.

    Idempotent: when both are present it changes nothing.
    """
    started = time.monotonic()
    pg = ensure_postgres()
    if pg.has_timescaledb():
        say(f"TimescaleDB is already installed for PostgreSQL {pg.major}: nothing to do")
        return pg
    if shutil.which("apt-get") is None:
        raise InstallError("TimescaleDB is missing and there is no apt-get to install it")
    _apt_update()
    if not _try_distribution_package(pg):
        _build_from_source(pg, workdir)
    if not pg.has_timescaledb():
        raise InstallError(
            f"TimescaleDB still missing from {pg.sharedir}/extension after installation"
        )
    say(f"TimescaleDB ready for PostgreSQL {pg.major} in {time.monotonic() - started:.0f} s")
    return pg
