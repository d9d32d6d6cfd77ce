"""`saasedge hostname create|list|show|delete|wait` against a running server, as a provisioning
script uses them: the internal CA, TXT validation through a real DNS server (pebble-challtestsrv),
an edge to deploy to. `wait` exits 0 on active, 1 with the validation errors on failure, 3 at its
timeout; --output json prints the API's objects."""

import json
import os
import pty
import re
import subprocess

import pytest

from conftest import UUID_RE, BIN, child_env, run_cli, sanitizer_report, uniq, wait_until
from issuance_helpers import ISSUE_TIMEOUT, publish_txt, start_issuer_with_edge
from peers import ChallTestSrv


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    srv = ChallTestSrv(tmp_path_factory.mktemp("dns"))
    yield srv
    srv.stop()


def cli(d, creds, *args, check=True, stderr=None):
    """`saasedge hostname ARGS` with the server's URL, token and zone from the environment, as a
    script would set them -> CompletedProcess."""
    env = {"SAASEDGE_API_URL": f"http://127.0.0.1:{d.server.port}",
           "SAASEDGE_API_TOKEN": creds.token, "SAASEDGE_ZONE_ID": creds.zone_id}
    if stderr is None:
        return run_cli("hostname", *args, env=env, check=check, timeout=ISSUE_TIMEOUT + 30)
    p = subprocess.run([BIN, "hostname", *map(str, args)], stdout=subprocess.PIPE,
                       stderr=stderr, text=True, env=child_env(env), timeout=ISSUE_TIMEOUT + 30)
    assert not sanitizer_report(p.stdout or ""), p.stdout
    return p


def shown_records(d, creds, hid):
    """The validation_records `show` prints once the issuer has made them."""
    def records():
        h = json.loads(cli(d, creds, "show", hid, "--output", "json").stdout)
        return h["ssl"].get("validation_records")

    return wait_until(records, ISSUE_TIMEOUT, "validation_records", interval=0.1)


def test_create_wait_list_show_delete(deploy, dns):
    d = deploy()
    creds = d.zone()
    start_issuer_with_edge(d, dns)
    name = uniq("cli")

    created = cli(d, creds, "create", name, "--method", "txt", "--ca", "internal")
    hid = created.stdout.strip()
    assert UUID_RE.match(hid), created.stdout

    # the customer has published nothing yet: the timeout, and what is being waited for
    p = cli(d, creds, "wait", name, "--timeout", "1", check=False)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert f"{name}: still" in p.stderr and "after 1 s" in p.stderr, p.stderr

    shown = json.loads(cli(d, creds, "show", name, "--output", "json").stdout)
    assert shown["id"] == hid and shown["hostname"] == name
    records = shown_records(d, creds, hid)
    text = cli(d, creds, "show", hid).stdout
    assert f"hostname     {name}" in text and f"id           {hid}" in text, text
    assert f"validation   TXT {records[0]['txt_name']} \"{records[0]['txt_value']}\"" in text

    publish_txt(dns, records)
    p = cli(d, creds, "wait", hid, "--timeout", str(ISSUE_TIMEOUT))
    assert p.stdout == "active\n", p.stdout
    # not a terminal: one line per status it saw, the last one active
    lines = p.stderr.strip().splitlines()
    assert lines and all(line.startswith(f"{name}: ") for line in lines), p.stderr
    assert lines[-1].startswith(f"{name}: active ("), p.stderr

    listed = json.loads(cli(d, creds, "list", "--output", "json").stdout)
    assert [h["id"] for h in listed] == [hid], listed
    table = cli(d, creds, "list", "--status", "active").stdout.splitlines()
    assert table[0].split() == ["HOSTNAME", "STATUS", "SSL", "STATUS", "ID"], table
    assert table[1].split() == [name, "active", "active", hid], table
    assert cli(d, creds, "list", "--status", "pending_validation").stdout.count("\n") == 1

    assert cli(d, creds, "delete", name).stdout.strip() == hid
    p = cli(d, creds, "show", name, check=False)
    assert p.returncode == 1 and f"no hostname {name}" in p.stderr, p.stderr


def test_wait_shows_progress_on_a_terminal(deploy, dns):
    d = deploy()
    creds = d.zone()
    start_issuer_with_edge(d, dns)
    name = uniq("tty")
    hid = cli(d, creds, "create", name, "--method", "txt", "--ca", "internal").stdout.strip()
    leader, follower = pty.openpty()
    try:
        p = cli(d, creds, "wait", hid, "--timeout", "1.2", stderr=follower)
        os.close(follower)
        follower = None
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    assert p.returncode == 3, p
    assert not sanitizer_report(seen.decode(errors="replace")), seen
    # one line rewritten in place (carriage return, erase line) as the seconds pass
    assert seen.count(b"\r\x1b[K" + name.encode()) >= 2, seen
    assert b"still" in seen, seen


def test_wait_fails_with_the_validation_errors(deploy, dns):
    d = deploy()
    creds = d.zone()
    start_issuer_with_edge(d, dns, ["--issuance.validation_timeout", "4"])
    name = uniq("wrong")
    hid = cli(d, creds, "create", name, "--method", "txt", "--ca", "internal").stdout.strip()
    records = shown_records(d, creds, hid)
    dns.set_txt(records[0]["txt_name"], "not-the-value")

    p = cli(d, creds, "wait", hid, "--output", "json", check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    got = json.loads(p.stdout)
    assert got["ssl"]["status"] == "validation_timed_out", got
    assert f"saasedge: {name}: validation_timed_out" in p.stderr, p.stderr
    for e in got["ssl"]["validation_errors"]:
        assert f"saasedge: {name}: {e['message']}" in p.stderr, p.stderr


def test_bad_input_is_explained(deploy):
    d = deploy()
    creds = d.zone()
    d.start()
    name = uniq("dup")
    cli(d, creds, "create", name)
    p = cli(d, creds, "create", name, check=False)
    assert p.returncode == 1 and re.search(r"saasedge: 1406: .*[Dd]uplicate", p.stderr), p.stderr
    p = cli(d, creds, "create", "not a hostname", check=False)
    assert p.returncode == 1 and re.search(r"saasedge: \d{4}: ", p.stderr), p.stderr

    wrong = type(creds)(creds.zone_id, "x" * len(creds.token))
    p = cli(d, wrong, "list", check=False)
    assert p.returncode == 1 and re.search(r"saasedge: \d+: ", p.stderr), p.stderr
    assert "x" * 10 not in p.stderr  # the token is not echoed

    p = run_cli("hostname", "list", check=False, env={"SAASEDGE_API_TOKEN": "",
                                                      "SAASEDGE_ZONE_ID": creds.zone_id})
    assert p.returncode == 2 and "--token" in p.stderr, p.stderr
    p = cli(d, creds, "list", "--output", "yaml", check=False)
    assert p.returncode == 2 and "--output must be text or json" in p.stderr, p.stderr
    p = cli(d, creds, "wait", name, "--timeout", "soon", check=False)
    assert p.returncode == 2 and "--timeout" in p.stderr, p.stderr
    p = cli(d, creds, "show", check=False)
    assert p.returncode == 2, p.stderr
    p = run_cli("hostname", "list", "--api", "http://127.0.0.1:1", "--token", "t", "--zone",
                creds.zone_id, check=False)
    assert p.returncode == 1 and "127.0.0.1:1" in p.stderr, p.stderr
    # nothing was created by the refused commands
    listed = json.loads(cli(d, creds, "list", "--output", "json").stdout)
    assert [h["hostname"] for h in listed] == [name], listed
