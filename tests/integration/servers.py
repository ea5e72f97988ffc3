"""Throwaway PostgreSQL and MariaDB servers for the integration tests.

Each server gets its own data folder, a free port on 127.0.0.1 only, a random password, and is
stopped by the fixture that started it. The binaries come from Debian's packages (`postgresql`,
`mariadb-server`), which .ci/run installs when they are missing.
"""

import glob
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

USER = "etl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_service_user(cmd: list[str], user: str) -> list[str]:
    """Server tools refuse to run as root: run them as the package's service user."""
    return ["runuser", "-u", user, "--", *cmd] if os.geteuid() == 0 else cmd


def _wait_for(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:.0f}s")
        time.sleep(0.3)


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def mariadb_bin() -> Path | None:
    path = shutil.which("mariadbd") or ("/usr/sbin/mariadbd" if Path("/usr/sbin/mariadbd").exists() else None)
    return Path(path) if path else None


class PostgresServer:
    def __init__(self):
        self.bin = postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="statedata-pg-"))
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> "PostgresServer":
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password)
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres")
        data = self.dir / "data"
        subprocess.run(
            _as_service_user(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "-A",
                    "scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                "postgres",
            ),
            check=True,
            capture_output=True,
        )
        pwfile.unlink()
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_service_user(
                [str(self.bin / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start"],
                "postgres",
            ),
            check=True,
            capture_output=True,
        )
        return self

    def create_database(self, name: str) -> None:
        eng = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with eng.connect() as con:
            con.execute(sa.text(f'create database "{name}"'))
        eng.dispose()

    def stop(self) -> None:
        subprocess.run(
            _as_service_user(
                [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"], "postgres"
            ),
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


class MariaDBServer:
    def __init__(self):
        self.bin = mariadb_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="statedata-mariadb-"))
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.proc: subprocess.Popen | None = None

    def url(self, database: str, driver: str = "mysql+pymysql") -> str:
        return f"{driver}://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> "MariaDBServer":
        user = "mysql" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "mysql")
        data, sock = self.dir / "data", self.dir / "sock"
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--user={user}",
                f"--datadir={data}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        self.proc = subprocess.Popen(
            [
                str(self.bin),
                "--no-defaults",
                f"--user={user}",
                f"--datadir={data}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={sock}",
                f"--pid-file={self.dir / 'pid'}",
                f"--log-error={self.dir / 'log'}",
                "--innodb-flush-log-at-trx-commit=0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(lambda: sock.exists() and self._root().connect().close() is None, "MariaDB")
        with self._root().connect() as con:
            con.execute(sa.text(f"create user '{USER}'@'127.0.0.1' identified by :pw"), {"pw": self.password})
        return self

    def _root(self) -> sa.Engine:
        return sa.create_engine(
            "mysql+pymysql://root@localhost/",
            connect_args={"unix_socket": str(self.dir / "sock")},
            isolation_level="AUTOCOMMIT",
        )

    def create_database(self, name: str) -> None:
        with self._root().connect() as con:
            con.execute(sa.text(f"create database `{name}` character set utf8mb4"))
            con.execute(sa.text(f"grant all on `{name}`.* to '{USER}'@'127.0.0.1'"))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


_TYPES = {"INTEGER": sa.BigInteger, "REAL": sa.Float(53), "TEXT": sa.Text}


def copy_sqlite(sqlite_path: Path, url: str, chunk: int = 20_000) -> dict[str, int]:
    """Copy every table of a SQLite file into the database at ``url``, with the same names and types."""
    eng = sa.create_engine(url)
    counts = {}
    with sqlite3.connect(sqlite_path) as src:
        tables = [r[0] for r in src.execute("select name from sqlite_master where type = 'table' order by name")]
        meta = sa.MetaData()
        for name in tables:
            cols = src.execute(f'pragma table_info("{name}")').fetchall()
            table = sa.Table(name, meta, *[sa.Column(c[1], _TYPES.get(c[2].upper(), sa.Text)) for c in cols])
            meta.create_all(eng, tables=[table])
            cur = src.execute(f'select * from "{name}"')
            names = [c[1] for c in cols]
            n = 0
            with eng.begin() as con:
                while rows := cur.fetchmany(chunk):
                    con.execute(table.insert(), [dict(zip(names, r)) for r in rows])
                    n += len(rows)
            counts[name] = n
    eng.dispose()
    return counts
