"""The Debian package (`make deb`) installed with dpkg on this machine, as an operator would:
its files, user and modes; its systemd unit verified by systemd-analyze; the unit's own command
line run as the unit runs it (its user, its configuration file; CI has no systemd), serving the
API; SIGHUP as `systemctl reload`; then purged. Needs root (or sudo) and a machine where
installing a package is fine: `make package-test`."""

import os
import pwd
import re
import shlex
import signal
import socket
import stat
import subprocess
import time
import urllib.request
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = Path("/lib/systemd/system/saasedge.service")
CONF = Path("/etc/saasedge/saasedge.conf")
SUDO = [] if os.geteuid() == 0 else ["sudo", "-n"]


def run(*cmd, check=True, **kw):
    return subprocess.run([*SUDO, *cmd], check=check, capture_output=True, text=True,
                          timeout=120, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed():
    deb = subprocess.run([str(REPO / "scripts" / "make-deb")], check=True, capture_output=True,
                         text=True, cwd=REPO).stdout.strip()
    if run("dpkg-query", "-W", "saasedge", check=False).returncode == 0:
        pytest.fail("a saasedge package is already installed here: remove it first",
                    pytrace=False)
    run("dpkg", "-i", str(REPO / deb))
    try:
        yield REPO / deb
    finally:
        run("dpkg", "--purge", "saasedge", check=False)


def test_files_user_and_modes(installed):
    user = pwd.getpwnam("saasedge")
    assert user.pw_dir == "/var/lib/saasedge" and user.pw_uid < 1000  # a system user
    data = os.stat("/var/lib/saasedge")
    assert stat.S_IMODE(data.st_mode) == 0o700 and data.st_uid == user.pw_uid
    conf = os.stat(CONF)
    assert stat.S_IMODE(conf.st_mode) == 0o640 and conf.st_uid == 0
    assert conf.st_gid == user.pw_gid
    assert "/etc/saasedge/saasedge.conf" in run("dpkg-query", "-W", "-f=${Conffiles}",
                                                  "saasedge").stdout
    assert run("/usr/bin/saasedge", "version").stdout.startswith("saasedge ")


def test_unit_is_hardened_and_verifies(installed):
    text = UNIT.read_text()
    for line in ("User=saasedge", "ProtectSystem=strict", "ReadWritePaths=/var/lib/saasedge",
                 "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                 "AmbientCapabilities=CAP_NET_BIND_SERVICE", "NoNewPrivileges=true",
                 "StateDirectory=saasedge", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    p = run("systemd-analyze", "verify", str(UNIT), check=False)
    assert p.returncode == 0 and not p.stderr.strip(), p.stderr


def unit_command(key):
    line = next(l for l in UNIT.read_text().splitlines() if l.startswith(f"{key}="))
    return shlex.split(line.split("=", 1)[1])


def test_unit_command_line_serves(installed, tmp_path):
    as_user = ["runuser", "-u", "saasedge", "--"]
    # ExecStartPre: the configuration as shipped checks out
    check = run(*as_user, *unit_command("ExecStartPre"))
    assert check.stdout.startswith("configuration OK: roles api,issuer,edge"), check.stdout

    api_port = free_port()
    ports = [f"--api.listen=127.0.0.1:{api_port}",  # no CAP_NET_BIND_SERVICE without systemd
             f"--edge.https_listen=127.0.0.1:{free_port()}",
             f"--edge.http_listen=127.0.0.1:{free_port()}"]
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen([*SUDO, *as_user, *unit_command("ExecStart"), *ports],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", api_port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        cli = [*as_user, "/usr/bin/saasedge"]
        zone = run(*cli, "zone", "create", "saasprovider.com", "--config", str(CONF)).stdout
        token = run(*cli, "token", "create", "--zone", zone.strip(), "--config",
                    str(CONF)).stdout.strip()
        req = urllib.request.Request(
            f"http://127.0.0.1:{api_port}/client/v4/zones/{zone.strip()}/custom_hostnames",
            headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200 and json.load(r)["success"] is True
        # the state went where the unit allows writing, and nowhere else
        assert run("test", "-f", "/var/lib/saasedge/saasedge.db").returncode == 0
        assert run("test", "-f", "/var/lib/saasedge/master.key").returncode == 0

        # ExecReload: SIGHUP to the main process re-reads the configuration
        run("pkill", "-HUP", "-u", "saasedge", "-x", "saasedge")
        deadline = time.monotonic() + 10
        while "configuration re-read" not in (tmp_path / "serve.log").read_text():
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
    finally:
        run("pkill", "-TERM", "-u", "saasedge", "-x", "saasedge", check=False)
        proc.wait(timeout=30)
    assert proc.returncode == 0, (tmp_path / "serve.log").read_text()


def test_purge_removes_everything(installed):
    run("dpkg", "--purge", "saasedge")
    assert run("dpkg-query", "-W", "saasedge", check=False).returncode != 0
    for path in ("/usr/bin/saasedge", str(UNIT), "/var/lib/saasedge", "/etc/saasedge"):
        assert not os.path.exists(path), path
    with pytest.raises(KeyError):
        pwd.getpwnam("saasedge")
