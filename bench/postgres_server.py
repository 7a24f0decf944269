"""A real, throw-away PostgreSQL server for the tests and the benchmarks: Debian's ``postgresql``
package (scripts/install-postgres.sh, run by ``make test``), initialised in a temporary directory.

The server runs as an unprivileged user — initdb and pg_ctl refuse root — so under root (CI, a
container) it runs as the package's ``postgres`` user (``nobody`` without one), in a directory made
theirs. It listens on a free loopback port and on a socket in that directory, trusts local connections
(a throw-away server nobody else can reach), and is stopped with ``pg_ctl stop -m fast``.

The tests that use it are never skipped: a machine without the server fails them, saying how to
install it (tests/postgres.py holds their fixtures).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    "run `bash scripts/install-postgres.sh` (as root or with password-less sudo; `make test` does), "
    "or set PG_BIN to the folder of a PostgreSQL server's initdb, pg_ctl and postgres"
)
SUPERUSER = "telecrm"
DATABASE = "telecrm_test"
READY_TIMEOUT_SECONDS = 60.0


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server to start, or it would not start: the message says why and what to do."""


def server_bin() -> Path:
    """The folder of the server's programs: ``PG_BIN``, else Debian's newest /usr/lib/postgresql/N/bin."""
    wanted = ("initdb", "pg_ctl", "postgres", "pg_isready")
    configured = os.environ.get("PG_BIN")
    candidates = (
        [configured]
        if configured
        else sorted(
            glob.glob("/usr/lib/postgresql/*/bin"),
            key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
            reverse=True,
        )
    )
    for folder in candidates:
        if all(os.access(Path(folder, name), os.X_OK) for name in wanted):
            return Path(folder)
    where = f"PG_BIN={configured}" if configured else "/usr/lib/postgresql/*/bin"
    raise PostgresUnavailable(f"no PostgreSQL server ({', '.join(wanted)}) in {where}: {INSTALL_HINT}")


def _server_user() -> pwd.struct_passwd | None:
    """Who the server runs as: this process's user, unless that is root (which initdb refuses)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable(
        "running as root and there is no `postgres` or `nobody` user to run the server as"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    bin: Path
    home: Path  # the temporary directory: data/, the socket, server.log
    user: pwd.struct_passwd | None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0  # seconds from initdb to ready, for the record

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """One of the server's programs, as the server's user; its output in the error when it fails."""
        result = subprocess.run(
            [str(self.bin / program), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            **self._as_user(),
        )
        if result.returncode != 0 and program not in {"pg_isready"}:
            raise PostgresUnavailable(f"{program} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def _as_user(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        return {
            "user": self.user.pw_uid,
            "group": self.user.pw_gid,
            "extra_groups": [],
            "cwd": str(self.home),
        }

    def start(self) -> None:
        began = time.monotonic()
        self._run(
            "initdb",
            f"--pgdata={self.data}",
            f"--username={SUPERUSER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",  # a throw-away cluster: no fsync of the freshly written files
        )
        for _ in range(3):  # the free port may be taken between looking and listening: take another
            self.port = _free_port()
            if self._start_postmaster():
                break
        else:
            raise PostgresUnavailable(f"PostgreSQL would not start: {self._log_tail()}")
        self._run("createdb", "--host=127.0.0.1", f"--port={self.port}", f"--username={SUPERUSER}", DATABASE)
        self.started_in = time.monotonic() - began

    def _start_postmaster(self) -> bool:
        """Start ``postgres`` and poll ``pg_isready`` until it accepts connections; False when it exited."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.home),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",  # nothing here must survive a crash of the machine
                    "-c",
                    "max_connections=50",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._as_user(),
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        pause = 0.01
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # it gave up (e.g. the port was taken): see the log
                return False
            ready = self._run("pg_isready", "--host=127.0.0.1", f"--port={self.port}", "--timeout=5")
            if ready.returncode == 0:
                return True
            time.sleep(pause)  # a poll's pause, not a wait for a guessed time
            pause = min(pause * 2, 0.2)
        self.stop()
        raise PostgresUnavailable(
            f"PostgreSQL was not ready in {READY_TIMEOUT_SECONDS:.0f} s: {self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self._run("pg_ctl", "stop", f"--pgdata={self.data}", "--mode=fast", "--wait", "--timeout=60")
        self.process.wait(timeout=60)


def start_postgres() -> PostgresServer:
    """A started server in a new temporary directory (the caller stops it and removes the directory)."""
    bin_dir = server_bin()
    user = _server_user()
    # not under pytest's tmp_path: its folders are private to the test runner's user
    home = Path(tempfile.mkdtemp(prefix="telecrm-pg-"))
    if user is not None:
        os.chown(home, user.pw_uid, user.pw_gid)
    server = PostgresServer(bin_dir, home, user)
    try:
        server.start()
    except BaseException:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
        raise
    return server
