"""The command line: zone and token creation, serve's flags, environment, config file and --dev."""

import json
import os
import re
import signal
import socket
import stat
import subprocess

import pytest

from conftest import (BIN, ZONE_ID_RE, Api, assert_ok, child_env, create_token, create_zone,
                      free_port, port_answers, run_cli, sanitizer_report, uniq, wait_until)


def output(p):
    return p.stdout + p.stderr


def test_zone_and_token_create(deploy):
    d = deploy()
    zone_id = create_zone(d.data, name="provider-one.com", quota=10,
                          cname_target="customers.provider-one.com")
    assert ZONE_ID_RE.match(zone_id)
    # The data directory is private.
    assert stat.S_IMODE(os.stat(d.data).st_mode) == 0o700
    t1 = create_token(d.data, zone_id)
    t2 = create_token(d.data, zone_id, email="ops@provider-one.com")
    assert t1 != t2
    other = create_zone(d.data, name="provider-two.com")
    assert other != zone_id
    d.start()
    for token in (t1, t2):
        assert_ok(Api(d.server, zone_id, token).list())
    assert Api(d.server, zone_id, t1).quota()["allocated"] == 10
    # A zone and token created while the server runs work at once.
    late = d.zone()
    assert_ok(d.api(late).list())


def test_duplicate_zone_name_fails(deploy):
    d = deploy()
    create_zone(d.data, name="twice.provider.com")
    p = run_cli("zone", "create", "twice.provider.com", data=d.data, check=False)
    assert p.returncode != 0
    assert p.stdout.strip() == "" or not ZONE_ID_RE.match(p.stdout.strip())
    assert "twice.provider.com" in output(p) or "exist" in output(p).lower(), output(p)


@pytest.mark.parametrize("zone", ["0123456789abcdef0123456789abcdef", "not-a-zone-id"])
def test_token_for_unknown_zone_fails(deploy, zone):
    d = deploy()
    create_zone(d.data)
    p = run_cli("token", "create", "--zone", zone, data=d.data, check=False)
    assert p.returncode != 0
    assert p.stdout.strip() == "", "a token was printed for an unknown zone"
    text = output(p).lower()
    assert zone in text or "zone" in text, output(p)


@pytest.mark.parametrize("args", [["zone", "create"], ["token", "create"], ["frobnicate"],
                                  ["zone", "explode", "x"]])
def test_bad_cli_usage_fails(deploy, args):
    d = deploy()
    p = run_cli(*args, data=d.data, check=False)
    assert p.returncode != 0
    assert output(p).strip(), "no message"


def run_serve_expecting_failure(d, *args, env=None, timeout=20):
    """Runs serve with ARGS; it must exit non-zero by itself -> CompletedProcess."""
    cmd = [BIN, "serve", "--data", str(d.data), *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=child_env(env),
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{cmd} kept running; it should have refused to start")
    marker = sanitizer_report(p.stderr)
    assert not marker, f"{marker}:\n{p.stderr}"
    assert p.returncode != 0, f"{cmd} exited 0\n{output(p)}"
    return p


@pytest.mark.parametrize("flag, name", [
    ("--frobnicate", "frobnicate"),
    ("--api.bogus_key=1", "api.bogus_key"),
    ("--nosection.key=1", "nosection.key"),
])
def test_serve_unknown_flag(deploy, flag, name):
    d = deploy()
    p = run_serve_expecting_failure(d, f"--api.listen=127.0.0.1:{free_port()}", flag)
    assert name in output(p), output(p)


@pytest.mark.parametrize("flag, name", [
    ("--api.rate_limit=abc", "api.rate_limit"),
    ("--api.threads=0", "api.threads"),
    ("--api.max_body=-5", "api.max_body"),
    ("--api.listen=nonsense", "api.listen"),
])
def test_serve_bad_value(deploy, flag, name):
    d = deploy()
    p = run_serve_expecting_failure(d, flag)
    text = output(p)
    assert name in text or flag.split("=", 1)[1] in text, text


def test_serve_port_in_use(deploy):
    d = deploy()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        p = run_serve_expecting_failure(d, f"--api.listen=127.0.0.1:{port}")
    assert f"127.0.0.1:{port}" in output(p), output(p)


def test_serve_sigterm_exits_zero(deploy):
    d = deploy()
    creds = d.zone()
    s = d.start()
    assert_ok(d.api(creds).list())
    s.stop()
    assert s.problems == [], s.report()
    assert not port_answers(s.port)


def test_json_logs(deploy):
    """--log.format=json: every line one JSON object with the fields of the logfmt line; an
    unknown format is refused."""
    d = deploy()
    creds = d.zone()
    s = d.start(extra_args=["--log.format=json"])
    assert_ok(d.api(creds).list())
    s.stop()
    assert s.problems == [], s.report()
    lines = [json.loads(line) for line in s.stderr().splitlines()]
    serving = [o for o in lines if o.get("msg") == "saasedge serving"]
    assert serving and serving[0]["level"] == "info", lines
    assert serving[0]["roles"] == "api" and serving[0]["api"].startswith("http://127.0.0.1:")
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", o["ts"]) for o in lines)
    p = run_serve_expecting_failure(d, f"--api.listen=127.0.0.1:{free_port()}",
                                    "--log.format=yaml")
    assert "log.format" in output(p), output(p)


def test_check_config(tmp_path):
    """serve --check-config: 0 and a summary for a good configuration, 2 and the key for a bad
    one (a listen address, a file it names, an unknown key), and nothing made on disk."""
    data = tmp_path / "data"
    conf = tmp_path / "saasedge.ini"
    conf.write_text("[api]\nlisten = 127.0.0.1:8787\n[edge]\nhttps_listen = :8443\n")

    def check(*args):
        p = subprocess.run([BIN, "serve", "--check-config", "--config", str(conf), "--data",
                            str(data), *args], capture_output=True, text=True,
                           env=child_env(), timeout=20)
        assert not sanitizer_report(p.stderr), p.stderr
        return p

    p = check("--roles=api,edge")
    assert p.returncode == 0 and p.stdout == f"configuration OK: roles api,edge, store SQLite in " \
                                             f"{data}\n", output(p)
    assert not data.exists()  # checked, not started: nothing made
    for args, key in ((["--roles=api,edge", "--edge.http_listen=localhost:80"],
                       "edge.http_listen"),
                      (["--edge.origin_ca_file", str(tmp_path / "nope.pem")],
                       "edge.origin_ca_file"),
                      (["--data", str(tmp_path / "no" / "such" / "dir")], "data"),
                      (["--api.lisen=127.0.0.1:1"], "api.lisen")):
        p = check(*args)
        assert p.returncode == 2 and key in p.stderr, (args, output(p))
        assert p.stdout == "", output(p)
    # the file itself: a bad value there is named too
    conf.write_text("[api]\nlisten = 127.0.0.1:8787\nthreads = lots\n")
    p = check()
    assert p.returncode == 2 and "api.threads" in p.stderr, output(p)


def test_sighup_applies_log_settings_and_names_the_rest(deploy):
    """SIGHUP reads the configuration again: log.level and log.format change at once, keys
    that need a restart are named and keep their values, a configuration that no longer loads
    changes nothing."""
    d = deploy()
    creds = d.zone()
    conf = d.root / "saasedge.ini"
    conf.write_text("[log]\nlevel = info\n[edge]\nread_timeout = 30\n")
    s = d.start(extra_args=["--config", str(conf)])
    api = d.api(creds)

    def reloaded(count):
        s.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: s.stderr().count("re-read") >= count, 10, "the reload logged")

    conf.write_text("[log]\nlevel = warn\nformat = json\n[edge]\nread_timeout = 5\n")
    reloaded(1)
    last = s.stderr().splitlines()[-1]
    assert json.loads(last) == {**json.loads(last), "msg": "configuration re-read",
                                "applied": "log.level,log.format",
                                "needs_restart": "edge.read_timeout"}, last
    assert_ok(api.list())  # still serving

    conf.write_text("[log]\nlevel = loud\n")
    reloaded(2)
    last = json.loads(s.stderr().splitlines()[-1])
    assert last["level"] == "warn" and "log.level" in last["error"], last
    assert last["msg"] == "configuration not re-read: it does not load", last

    conf.write_text("[log]\nlevel = info\n[edge]\nread_timeout = 30\n")
    reloaded(3)
    last = s.stderr().splitlines()[-1]
    assert re.search(r'msg="configuration re-read" applied=log.level,log.format '
                     r'needs_restart=none$', last), last
    assert_ok(api.list())
    s.stop()
    assert s.problems == [], s.report()
    assert 'msg="saasedge stopping" signal=SIGTERM' in s.stderr()


def test_env_listen(deploy):
    d = deploy()
    creds = d.zone()
    port = free_port()
    d.start(port=port, listen=False, env={"SAASEDGE_API_LISTEN": f"127.0.0.1:{port}"})
    assert_ok(d.api(creds).list())


def test_config_file_listen(deploy):
    d = deploy()
    creds = d.zone()
    port = free_port()
    conf = d.root / "saasedge.ini"
    conf.write_text(f"# test config\n[api]\nlisten = 127.0.0.1:{port}\nthreads = 2\n")
    d.start(port=port, listen=False, extra_args=["--config", str(conf)])
    assert_ok(d.api(creds).list())


def test_precedence_flag_env_file(deploy):
    d = deploy()
    creds = d.zone()
    p_file, p_env, p_flag = free_port(), free_port(), free_port()
    conf = d.root / "saasedge.ini"
    conf.write_text(f"[api]\nlisten = 127.0.0.1:{p_file}\n")
    env = {"SAASEDGE_API_LISTEN": f"127.0.0.1:{p_env}"}
    # env beats the file
    s = d.start(port=p_env, listen=False, env=env, extra_args=["--config", str(conf)])
    assert_ok(d.api(creds).list())
    assert not port_answers(p_file)
    s.stop()
    # the flag beats both
    d.start(port=p_flag, listen=True, env=env, extra_args=["--config", str(conf)])
    assert_ok(d.api(creds).list())
    assert not port_answers(p_env) and not port_answers(p_file)


def test_dev_mode(deploy, tmp_path):
    d = deploy()
    cwd = tmp_path / "devcwd"
    cwd.mkdir()
    s = d.start(with_data=False, cwd=cwd, extra_args=["--dev"], roles=None)
    token_file = cwd / "var" / "dev-token"
    assert token_file.exists()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert len(token) == 40
    out = wait_until(lambda: token in s.stdout() and "curl" in s.stdout() and s.stdout(),
                     10, "the dev banner on stdout")
    zone_ids = set(re.findall(r"\b[0-9a-f]{32}\b", out))
    assert len(zone_ids) == 1, out
    zone_id = zone_ids.pop()
    # The request the banner shows works (as curl would send it).
    api = Api(s, zone_id, token)
    created = api.create(uniq("dev"))
    assert_ok(api.list())
    assert f"127.0.0.1:{s.port}/client/v4" in out, out  # the example points at this server
    # A second start in the same place reuses the zone and the token.
    s.stop()
    s.start()
    assert token_file.read_text().strip() == token
    out2 = wait_until(lambda: token in s.stdout() and s.stdout(), 10, "the second banner")
    assert zone_id in out2
    assert Api(s, zone_id, token).fetch(created["id"])["hostname"] == created["hostname"]
