"""The PostgreSQL backend for the integration suite: with SAASEDGE_TEST_BACKEND=postgres every
data directory a test uses gets a database of its own on one PostgreSQL cluster that this
module starts (initdb + pg_ctl in a temporary directory, a Unix socket only, no system
service) and stops when the session ends. The server and CLI then run with --store.url, as a
fleet node would; the data directory still holds the master key and the CA's files.
"""

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BACKEND = os.environ.get("SAASEDGE_TEST_BACKEND", "sqlite")
POSTGRES = BACKEND == "postgres"


def pg_bindir():
    """Debian's versioned server binaries (initdb and pg_ctl are not on PATH)."""
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.glob("*/bin/initdb")), key=lambda p: p.parts[-3])
    if not versions:
        raise RuntimeError("PostgreSQL server binaries not found: run `make deps`")
    return versions[-1].parent


class Cluster:
    """A throwaway cluster: trust authentication on a socket in its own directory."""

    def __init__(self, durable=False, parent=None, options=""):
        # durable: fsync on, for benchmarks; tests kill saasedge, not PostgreSQL, and skip it.
        # OPTIONS: more "-c name=value" settings for the server.
        self.durable = durable
        self.options = options
        self.dir = Path(tempfile.mkdtemp(prefix="saasedge-pg-", dir=parent))
        self.data = self.dir / "data"
        self.bindir = pg_bindir()
        self.user = None
        self.started = False

    def _as_owner(self, cmd):
        # initdb refuses to run as root: the cluster then belongs to the postgres user.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return cmd

    def start(self):
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        subprocess.run(
            self._as_owner([str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
                            "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            check=True, capture_output=True)
        self.start_server()
        atexit.register(self.stop)

    def start_server(self):
        """Starts PostgreSQL on the cluster (again, after stop_server)."""
        opts = (f"-k {self.dir} -c listen_addresses='' -c max_connections=400 "
                "-c shared_buffers=64MB" + ("" if self.durable else " -c fsync=off") +
                (f" {self.options}" if self.options else ""))
        subprocess.run(
            self._as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts,
                            "-l", str(self.dir / "server.log"), "-w", "start"]),
            check=True, capture_output=True)
        self.started = True

    def replica(self):
        """A hot standby of this cluster, made with pg_basebackup and streaming from it;
        started."""
        r = Cluster(durable=self.durable)
        if os.geteuid() == 0:
            shutil.chown(r.dir, "postgres")
        subprocess.run(
            self._as_owner([str(self.bindir / "pg_basebackup"), "-D", str(r.data), "-R",
                            "-X", "stream", "--checkpoint=fast", "-h", str(self.dir),
                            "-U", "postgres", "--no-sync"]),
            check=True, capture_output=True)
        r.start_server()
        atexit.register(r.stop)
        return r

    def stop_server(self):
        """Stops PostgreSQL, keeping the cluster: clients' connections are cut at once."""
        if self.started:
            subprocess.run(
                self._as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m",
                                "immediate", "-w", "stop"]),
                capture_output=True)
            self.started = False

    def stop(self):
        self.stop_server()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, dbname):
        return f"host={self.dir} user=postgres dbname={dbname}"

    def psql(self, dbname, sql):
        p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d",
                            self.url(dbname), "-c", sql],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {p.stderr}")
        return p.stdout


_cluster = None
_databases = set()


def cluster():
    global _cluster
    if _cluster is None:
        _cluster = Cluster()
        _cluster.start()
    return _cluster


def store_url(data_dir):
    """The database of DATA_DIR (created on first use) as a libpq connection string."""
    c = cluster()
    name = "d" + hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:20]
    if name not in _databases:
        c.psql("postgres", f"CREATE DATABASE {name}")
        _databases.add(name)
    return c.url(name)


def store_args(data_dir):
    """The arguments that put DATA_DIR's store on PostgreSQL (none for SQLite)."""
    if not POSTGRES or data_dir is None:
        return []
    return [f"--store.url={store_url(data_dir)}"]


def _pg_connect(data_dir):
    import psycopg2  # only the PostgreSQL runs need it

    return psycopg2.connect(store_url(data_dir))


def url_rows(url, sql, *params):
    """Rows of SQL (with ? parameters) from the PostgreSQL database at URL; blobs as bytes."""
    import psycopg2

    db = psycopg2.connect(url)
    try:
        with db.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params)
            return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                    for row in cur.fetchall()]
    finally:
        db.close()


def store_rows(data_dir, sql, *params):
    """Rows of SQL (with ? parameters) read from DATA_DIR's store, whichever backend holds it:
    for tests that check what the store kept. Blobs come back as bytes."""
    if POSTGRES:
        return url_rows(store_url(data_dir), sql, *params)
    import sqlite3

    db = sqlite3.connect(f"file:{data_dir}/saasedge.db?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def store_execute(data_dir, sql, *params):
    """Runs one writing statement on DATA_DIR's store and commits: for tests that plant a row
    as another role would."""
    if POSTGRES:
        db = _pg_connect(data_dir)
        try:
            with db, db.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), params)
        finally:
            db.close()
        return
    import sqlite3

    db = sqlite3.connect(str(Path(data_dir) / "saasedge.db"), timeout=10)
    try:
        with db:
            db.execute(sql, params)
    finally:
        db.close()
