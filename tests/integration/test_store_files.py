"""The store's files on disk (issue 10, finding 12): the database, its -wal and -shm and the
master key are readable by saasedge's user only, whatever the umask it was started with, and
the master key can live outside the data directory: in a file named by store.master_key, or
in the environment (SAASEDGE_MASTER_KEY, base64), in which case no key file is written."""

import base64
import os
import secrets
import stat

import pytest

from conftest import Deployment, finish_servers, run_cli, uniq
from edge_helpers import TestCA, edge_ports, import_cert, wait_served
from pg import POSTGRES

sqlite_only = pytest.mark.skipif(
    POSTGRES, reason="SQLite's own files: PostgreSQL keeps none in the data directory")

STORE_FILES = ("saasedge.db", "saasedge.db-wal", "saasedge.db-shm")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_private(paths):
    for p in paths:
        assert os.path.exists(p), f"{p} missing"
        assert mode(p) & 0o077 == 0, f"{p} has mode {mode(p):04o}, expected 0600"


def with_umask(fn):
    """Runs FN under umask 022, the usual default that made the files 0644, and restores."""
    old = os.umask(0o022)
    try:
        return fn()
    finally:
        os.umask(old)


def start_serving(d, env=None, extra=()):
    d.start(roles="api,edge", env=env, extra_args=["--edge.workers=1", *extra])
    return d


def serve_a_certificate(d, env=None):
    """A hostname with an imported certificate, served by the edge: the key was sealed by the
    CLI and unsealed by the server with the same master key."""
    creds = d.zone()
    api = d.api(creds)
    name = uniq("files")
    api.create(name, ssl={"method": "http", "type": "dv"})
    ca = TestCA(d.root / "ca")
    chain, key, serial = ca.leaf([name], "ec")
    import_cert(d.data, name, chain, key)
    https, _ = edge_ports(d.server)
    wait_served(https, name, serial, 10)


@sqlite_only
def test_store_files_are_private_after_cli_and_serve(tmp_path):
    d = Deployment(tmp_path)

    def run():
        creds = d.zone()  # the CLI creates the store
        assert_private([d.data / "saasedge.db"])
        start_serving(d)
        try:
            d.api(creds).create(uniq("modes"))
            serve_a_certificate(d)
            assert_private([d.data / f for f in STORE_FILES] + [d.data / "master.key"])
        finally:
            finish_servers(d.servers)

    with_umask(run)


@sqlite_only
def test_wider_modes_from_an_older_version_are_narrowed(tmp_path):
    d = Deployment(tmp_path)
    with_umask(lambda: d.zone())
    for f in STORE_FILES:
        if (d.data / f).exists():
            os.chmod(d.data / f, 0o644)
    with_umask(lambda: start_serving(d))
    try:
        d.new_api().create(uniq("narrow"))
        assert_private([d.data / f for f in STORE_FILES])
    finally:
        finish_servers(d.servers)


def test_master_key_file_outside_the_data_directory(tmp_path):
    d = Deployment(tmp_path)
    keydir = tmp_path / "secrets"
    keydir.mkdir(mode=0o700)
    key = keydir / "saasedge.key"
    start_serving(d, extra=[f"--store.master_key={key}"])
    try:
        creds = d.zone()
        name = uniq("keyfile")
        d.api(creds).create(name, ssl={"method": "http", "type": "dv"})
        ca = TestCA(tmp_path / "ca")
        chain, pkey, serial = ca.leaf([name], "ec")
        # The CLI reads the same key file, named through the setting's environment form.
        run_cli("cert", "import", "--hostname", name, "--cert", chain, "--key", pkey,
                data=d.data, env={"SAASEDGE_STORE_MASTER_KEY": str(key)})
        https, _ = edge_ports(d.server)
        wait_served(https, name, serial, 10)
        assert_private([key])
        assert len(key.read_bytes()) == 32
        assert not (d.data / "master.key").exists(), "a key file was written in the data dir"
    finally:
        finish_servers(d.servers)


def test_master_key_from_the_environment_writes_no_file(tmp_path):
    d = Deployment(tmp_path)
    raw = secrets.token_bytes(32)
    text = base64.b64encode(raw).decode()
    env = {"SAASEDGE_MASTER_KEY": text}
    start_serving(d, env=env)
    try:
        creds = d.zone()
        name = uniq("envkey")
        d.api(creds).create(name, ssl={"method": "http", "type": "dv"})
        ca = TestCA(tmp_path / "ca")
        chain, pkey, serial = ca.leaf([name], "ec")
        run_cli("cert", "import", "--hostname", name, "--cert", chain, "--key", pkey,
                data=d.data, env=env)
        https, _ = edge_ports(d.server)
        wait_served(https, name, serial, 10)  # sealed and unsealed with the key from env
        assert not (d.data / "master.key").exists(), "a key file was written"
        # The key is in no file (the store holds only what it sealed) and no output.
        for f in d.data.rglob("*"):
            if f.is_file():
                blob = f.read_bytes()
                assert raw not in blob and text.encode() not in blob, f"the key is in {f}"
        # ...and not in the server's environment for anyone reading /proc.
        environ = open(f"/proc/{d.server.proc.pid}/environ", "rb").read()
        assert text.encode() not in environ, "the key is still in /proc/<pid>/environ"
    finally:
        finish_servers(d.servers)
    for run in d.server.runs:
        out = run["stderr"].read_text() + run["stdout"].read_text()
        assert text not in out, "the master key appears in the server's output"



def test_bad_master_key_in_the_environment_is_refused_without_echo(tmp_path):
    d = Deployment(tmp_path)
    d.zone()
    for bad in ("not-base64!" * 4, base64.b64encode(secrets.token_bytes(31)).decode(),
                secrets.token_hex(32)):
        p = run_cli("serve", "--data", d.data, "--api.listen=127.0.0.1:0", "--roles=api",
                    env={"SAASEDGE_MASTER_KEY": bad}, check=False)
        assert p.returncode != 0, p.stderr
        assert "SAASEDGE_MASTER_KEY" in p.stderr and "base64" in p.stderr, p.stderr
        assert bad not in p.stdout + p.stderr, "the bad key was echoed"
        p = run_cli("cert", "import", "--hostname", "x.example.com", "--cert", "/dev/null",
                    "--key", "/dev/null", data=d.data, env={"SAASEDGE_MASTER_KEY": bad},
                    check=False)
        assert bad not in p.stdout + p.stderr, "the bad key was echoed"
    assert not (d.data / "master.key").exists()
