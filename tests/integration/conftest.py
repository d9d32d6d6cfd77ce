"""Shared helpers for the black-box integration tests of saasedge.

Everything here drives the real binary ($SAASEDGE_BIN, default build/saasedge): the CLI to make
zones and tokens, `saasedge serve` on loopback ports picked at run time, and the HTTP API through
`Api`, which checks Cloudflare's envelope on every response it sees.

A server that exits non-zero after SIGTERM, or whose stderr shows a sanitizer report, fails the
test that owned it (an error at teardown) and its stderr is printed. With SAASEDGE_ASAN=1 the
children run with ASAN_OPTIONS/UBSAN_OPTIONS set for the ASan+UBSan build.
"""

import copy
import datetime
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from pg import POSTGRES, store_args

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SAASEDGE_BIN", str(REPO / "build" / "saasedge"))
ASAN = os.environ.get("SAASEDGE_ASAN") == "1"

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
START_TIMEOUT = 40.0 if ASAN else 20.0  # seconds until the API port answers
STOP_TIMEOUT = 30.0 if ASAN else 15.0  # seconds between SIGTERM and exit
CLI_TIMEOUT = 60.0

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ZONE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

SSL_STATUSES = (
    "initializing pending_validation deleted pending_issuance pending_deployment "
    "pending_deletion pending_expiration expired active initializing_timed_out "
    "validation_timed_out issuance_timed_out deployment_timed_out deletion_timed_out "
    "pending_cleanup staging_deployment staging_active deactivating inactive backup_issued "
    "holding_deployment"
).split()
HOSTNAME_STATUSES = (
    "active pending active_redeploying moved pending_deletion deleted pending_blocked "
    "pending_migration pending_provisioned test_pending test_active test_active_apex "
    "test_blocked test_failed provisioned blocked"
).split()


# ---- small utilities ---------------------------------------------------------------------------


def uniq(label="app", domain="saas-customer.com"):
    """A hostname nobody else in this run uses: LABEL-<8 hex>.DOMAIN (hostnames are unique across
    a whole installation, so tests sharing a server must not collide)."""
    return f"{label}-{secrets.token_hex(4)}.{domain}"


def _ports_below_ephemeral():
    """The ports free_port() draws from: the 12000 below the kernel's ephemeral range, where
    neither bind(port 0) nor an outgoing connection's source port ever lands."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    pool = range(max(1024, low - 12000), low)
    # Under pytest-xdist each worker is a process of its own: give each a slice of the pool, so
    # that two workers never hand out the same port.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        return pool[int(worker[2:])::count]
    return pool


_PORT_POOL = _ports_below_ephemeral()
_ports_handed_out = set()


def free_port(family=socket.AF_INET, address="127.0.0.1"):
    """A TCP port that was free a moment ago and that no earlier call of this run returned.

    The caller binds it later (often in another process), so the port must not be taken in
    between: bind(port 0) would pick from the ephemeral range, where a second call or any
    client's outgoing connection can land on the same port first (CI once saw the API and the
    edge handed one port). Drawing at random below that range, once per port, avoids both."""
    rng = secrets.SystemRandom()
    for _ in range(1000):
        port = rng.choice(_PORT_POOL)
        if port in _ports_handed_out:
            continue
        with socket.socket(family, socket.SOCK_STREAM) as s:
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            try:
                s.bind((address, port))
            except OSError:
                continue
        _ports_handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {_PORT_POOL}")


def port_answers(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout, what, interval=0.02):
    """Polls PREDICATE until it returns a truthy value (returned) or TIMEOUT seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def parse_time(s):
    assert TIME_RE.match(s), f"not RFC 3339 UTC with microseconds: {s!r}"
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc
    )


def sanitizer_report(text):
    return next((m for m in SANITIZER_MARKERS if m in text), None)


def child_env(extra=None):
    """The environment for a saasedge child: ours without any SAASEDGE_* variable (the runner's
    SAASEDGE_BIN/SAASEDGE_ASAN are not config keys), plus sanitizer options and EXTRA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAASEDGE_")}
    if ASAN:
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1"
    env.update(extra or {})
    return env


# ---- the CLI -----------------------------------------------------------------------------------


def run_cli(*args, data=None, check=True, env=None, cwd=None, timeout=CLI_TIMEOUT):
    """Runs `saasedge ARGS [--data DATA]`; fails the test on a sanitizer report, and on a
    non-zero exit when CHECK. Returns the CompletedProcess (text mode)."""
    cmd = [BIN, *map(str, args)]
    if data is not None:
        cmd += ["--data", str(data)] + store_args(data)
    p = subprocess.run(
        cmd, capture_output=True, text=True, env=child_env(env), cwd=cwd, timeout=timeout
    )
    marker = sanitizer_report(p.stderr)
    if marker:
        pytest.fail(f"{marker} in stderr of {cmd}:\n{p.stderr}")
    if check and p.returncode != 0:
        pytest.fail(
            f"{cmd} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        )
    return p


def create_zone(data, name=None, quota=None, cname_target=None, hard_cap=None):
    """`saasedge zone create` -> the zone id it printed (checked to be 32 lowercase hex)."""
    args = ["zone", "create", name or uniq("zone", "provider.com")]
    if cname_target:
        args += ["--cname-target", cname_target]
    if quota is not None:
        args += ["--quota", quota]
    if hard_cap is not None:
        args += ["--hard-cap", hard_cap]
    out = run_cli(*args, data=data).stdout.strip()
    assert ZONE_ID_RE.match(out), f"zone create printed {out!r}, not a 32-hex zone id"
    return out


def create_token(data, zone_id, email=None):
    """`saasedge token create` -> the 40-character token it printed."""
    args = ["token", "create", "--zone", zone_id]
    if email:
        args += ["--email", email]
    out = run_cli(*args, data=data).stdout.strip()
    assert len(out) == 40 and out.isprintable() and " " not in out, (
        f"token create printed {out!r}, not a 40-character token"
    )
    return out


_help_cache = {}


def serve_help():
    """`saasedge serve --help` (cached): tells which optional config keys this build has."""
    if "text" not in _help_cache:
        try:
            p = subprocess.run(
                [BIN, "serve", "--help"], capture_output=True, text=True,
                env=child_env(), timeout=CLI_TIMEOUT,
            )
            _help_cache["text"] = p.stdout + p.stderr
        except OSError:
            _help_cache["text"] = ""
    return _help_cache["text"]


def aux_listen_args():
    """Free loopback ports for every listener other than the API that this build has
    (edge.https_listen, dns.listen, …), so that servers started side by side never collide on
    a default port."""
    keys = sorted(set(re.findall(r"\b([a-z0-9_]+\.[a-z0-9_]*listen)\b", serve_help())))
    args = []
    for key in keys:
        # api.approval_listen moves the approval page off the API's port: a test asks for it.
        if not key.startswith("api."):
            args.append(f"--{key}=127.0.0.1:{free_port()}")
    return args


def quiet_args():
    """Background work a test does not look at, off unless the test's own arguments (which come
    later and win) turn it on: the issuer's RSA key pool would spend the idle CPU of every
    server the suite starts."""
    if re.search(r"\bissuer\.key_pool\b", serve_help()):
        return ["--issuer.key_pool=0"]
    return []


def role_args(roles):
    """`--roles=ROLES` when this build knows the key (the API tests run the api role alone, so
    that no issuer moves ssl.status while they look at it)."""
    if roles and re.search(r"\broles\b", serve_help()):
        return [f"--roles={roles}"]
    return []


LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"


def origin_allow_args(networks):
    """`--edge.origin_allow_networks=NETWORKS` when this build knows the key: every test origin
    is on loopback, which saasedge refuses by default (tests/integration/test_edge_ssrf.py
    starts servers with NETWORKS=None to see that)."""
    if networks is not None and re.search(r"\bedge\.origin_allow_networks\b", serve_help()):
        return [f"--edge.origin_allow_networks={networks}"]
    return []


# ---- a server process --------------------------------------------------------------------------


class Server:
    """One `saasedge serve` process at a time on DATA_DIR; restartable (same data dir)."""

    def __init__(self, data_dir, log_dir, rate_limit=0, rate_burst=None, extra_args=(),
                 env=None, roles="api", cwd=None, listen=True,
                 origin_allow=LOOPBACK_NETWORKS):
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.log_dir = Path(log_dir)
        self.rate_limit = rate_limit
        self.rate_burst = rate_burst
        self.extra_args = list(extra_args)
        self.env = env
        self.roles = roles
        self.cwd = cwd
        self.listen = listen
        self.origin_allow = origin_allow
        self.port = None
        self.proc = None
        self.runs = []  # (cmd, stderr path, stdout path, killed)
        self.problems = []

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/client/v4"

    def start(self, port=None, wait=True):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = port or free_port()
        cmd = [BIN, "serve"]
        if self.data_dir is not None:
            cmd += ["--data", str(self.data_dir)] + store_args(self.data_dir)
        if self.listen:
            cmd += ["--api.listen", f"127.0.0.1:{self.port}"]
        cmd += ["--api.rate_limit", str(self.rate_limit)]
        if self.rate_burst is not None:
            cmd += ["--api.rate_burst", str(self.rate_burst)]
        cmd += aux_listen_args() + role_args(self.roles) + quiet_args()
        cmd += origin_allow_args(self.origin_allow) + self.extra_args
        n = len(self.runs)
        err_path = self.log_dir / f"serve-{self.port}-{n}.stderr"
        out_path = self.log_dir / f"serve-{self.port}-{n}.stdout"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(err_path, "wb") as err, open(out_path, "wb") as out:
            # A session of its own: the kernel continues (SIGHUP, then SIGCONT) the stopped
            # members of a process group that becomes orphaned, as the runner's own group may
            # when it was started in the background, and a test that stops a server (a hung
            # node) must find it still stopped.
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                env=child_env(self.env), cwd=self.cwd, start_new_session=True,
            )
        self.runs.append({"cmd": cmd, "stderr": err_path, "stdout": out_path, "killed": False})
        if wait:
            self.wait_ready()
        return self

    def stderr(self, run=-1):
        return self.runs[run]["stderr"].read_text(errors="replace")

    def stdout(self, run=-1):
        return self.runs[run]["stdout"].read_text(errors="replace")

    def wait_ready(self, timeout=START_TIMEOUT):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"saasedge serve exited {self.proc.returncode} before answering on port "
                    f"{self.port}\ncmd: {self.runs[-1]['cmd']}\nstderr:\n{self.stderr()}"
                )
            return port_answers(self.port)

        wait_until(ready, timeout, f"saasedge serve to answer on 127.0.0.1:{self.port}")

    def _check_run_output(self):
        text = self.stderr()
        marker = sanitizer_report(text)
        if marker:
            self.problems.append(f"{marker} in stderr of {self.runs[-1]['cmd']}")

    def stop(self):
        """SIGTERM and wait; records a problem for a non-zero exit, a hang or a sanitizer report."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.problems.append(
                    f"did not exit within {STOP_TIMEOUT}s of SIGTERM: {self.runs[-1]['cmd']}"
                )
        rc = self.proc.returncode
        if rc != 0 and not self.runs[-1]["killed"]:
            self.problems.append(f"exited {rc} (expected 0 after SIGTERM): {self.runs[-1]['cmd']}")
        self._check_run_output()
        self.proc = None

    def kill9(self):
        """SIGKILL, as a crash or power cut would (no clean shutdown)."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        self.runs[-1]["killed"] = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._check_run_output()
        self.proc = None

    def restart(self, kill=False):
        if kill:
            self.kill9()
        else:
            self.stop()
        return self.start()

    def report(self):
        """The problems and every run's stderr, for a failure message."""
        parts = list(self.problems)
        for run in self.runs:
            parts.append(f"--- stderr of {' '.join(map(str, run['cmd']))}\n"
                         f"{run['stderr'].read_text(errors='replace')[-20000:]}")
        return "\n".join(parts)


def finish_servers(servers):
    """Stops SERVERS; fails (at teardown) if any of them misbehaved."""
    for s in servers:
        s.stop()
    bad = [s for s in servers if s.problems]
    if bad:
        pytest.fail("saasedge server problems:\n" + "\n\n".join(s.report() for s in bad),
                    pytrace=False)


class Deployment:
    """A data directory with its zones, tokens and server(s)."""

    def __init__(self, root):
        self.root = Path(root)
        self.data = self.root / "data"
        self.servers = []
        self.server = None

    def zone(self, name=None, quota=None, email=None, cname_target=None, hard_cap=None):
        """A new zone and a token for it -> Creds."""
        zone_id = create_zone(self.data, name=name, quota=quota, cname_target=cname_target,
                              hard_cap=hard_cap)
        token = create_token(self.data, zone_id, email=email)
        return Creds(zone_id, token, email)

    def start(self, port=None, wait=True, with_data=True, **kw):
        """Starts a server (Server's keyword arguments); WITH_DATA=False leaves --data out."""
        s = Server(self.data if with_data else None, self.root / "logs", **kw)
        self.servers.append(s)
        self.server = s
        return s.start(port=port, wait=wait)

    def api(self, creds, **kw):
        assert self.server is not None, "start the server first"
        return Api(self.server, creds.zone_id, creds.token, **kw)

    def new_api(self, **zone_kw):
        """A fresh zone + token on this deployment's server -> Api."""
        return self.api(self.zone(**zone_kw))


class Creds:
    def __init__(self, zone_id, token, email=None):
        self.zone_id = zone_id
        self.token = token
        self.email = email


# ---- the API client ----------------------------------------------------------------------------


def check_envelope(r):
    """Cloudflare's envelope, asserted on every response: JSON content type, success matching the
    status, errors a list, messages [], a result key, x-should-retry: false on 4xx but 429/408."""
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", (
        f"{r.request.method} {r.url} -> {r.status_code} with Content-Type {ctype!r}: {r.text[:300]}"
    )
    body = r.json()
    where = f"{r.request.method} {r.url} -> {r.status_code} {body}"
    assert isinstance(body, dict), where
    assert body.get("success") is (200 <= r.status_code < 300), where
    assert isinstance(body.get("errors"), list), where
    assert body.get("messages") == [], where
    assert "result" in body, where
    if r.status_code >= 400:
        assert body["errors"], f"error without errors[]: {where}"
        for e in body["errors"]:
            assert isinstance(e.get("code"), int) and isinstance(e.get("message"), str), where
            assert e["message"], where
    else:
        assert body["errors"] == [], where
    retry = r.headers.get("x-should-retry")
    if 400 <= r.status_code < 500 and r.status_code not in (408, 429):
        assert retry == "false", f"{where}: x-should-retry is {retry!r}, expected 'false'"
    elif r.status_code in (408, 429):
        assert retry != "false", f"{where}: x-should-retry: false on {r.status_code}"
    return body


def assert_error(r, status, code, chain=None, second=None):
    """R failed with HTTP STATUS and errors[0].code CODE (and error_chain[0].code CHAIN, and a
    second error SECOND, when given)."""
    body = check_envelope(r)
    where = f"{r.request.method} {r.url} body={r.request.body!r:.300} -> {r.status_code} {body}"
    assert r.status_code == status, where
    assert body["errors"][0]["code"] == code, where
    assert body["result"] is None, where
    if chain is not None:
        assert body["errors"][0].get("error_chain", [{}])[0].get("code") == chain, where
    if second is not None:
        assert [e["code"] for e in body["errors"]][1:2] == [second], where
    return body


def assert_ok(r, status=200):
    body = check_envelope(r)
    assert r.status_code == status, (
        f"{r.request.method} {r.url} body={r.request.body!r:.300} -> {r.status_code} {body}"
    )
    return body


class Api:
    """A requests.Session with the Bearer header, bound to one zone of one server."""

    def __init__(self, server, zone_id, token=None, headers=None):
        self.server = server
        self.zone_id = zone_id
        self.token = token
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers.update(headers or {})

    @property
    def base(self):
        return self.server.base_url

    @property
    def zone_path(self):
        return f"/zones/{self.zone_id}/custom_hostnames"

    def raw(self, method, path, **kw):
        """METHOD base+PATH, no checks (PATH starts with '/')."""
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.base + path, **kw)

    def request(self, method, sub="", **kw):
        """METHOD on /zones/{zone}/custom_hostnames+SUB, envelope checked."""
        r = self.raw(method, self.zone_path + sub, **kw)
        check_envelope(r)
        return r

    # -- custom hostnames
    def post(self, body=None, data=None, **kw):
        if data is not None:
            return self.request("POST", data=data,
                                headers={"Content-Type": "application/json"}, **kw)
        return self.request("POST", json=body, **kw)

    def create(self, hostname, **fields):
        """POST {hostname, **fields}: asserts 201, returns the result object."""
        return assert_ok(self.post({"hostname": hostname, **fields}), 201)["result"]

    def get(self, hid):
        return self.request("GET", f"/{hid}")

    def fetch(self, hid):
        return assert_ok(self.get(hid))["result"]

    def patch(self, hid, body=None, data=None):
        if data is not None:
            return self.request("PATCH", f"/{hid}", data=data,
                                headers={"Content-Type": "application/json"})
        return self.request("PATCH", f"/{hid}", json=body)

    def edit(self, hid, body):
        """PATCH: asserts 202, returns the result object."""
        return assert_ok(self.patch(hid, body), 202)["result"]

    def delete(self, hid):
        return self.request("DELETE", f"/{hid}")

    def list(self, **params):
        """GET the list with PARAMS as given (dotted keys such as 'hostname.exact' pass as is)."""
        return self.request("GET", params=params)

    def page(self, **params):
        """The list body (asserted 200)."""
        return assert_ok(self.list(**params))

    def all(self, per_page=1000, **params):
        """Every hostname matching PARAMS, walking pages until an empty one."""
        out, page = [], 1
        while True:
            body = self.page(page=page, per_page=per_page, **params)
            if not body["result"]:
                return out
            out += body["result"]
            page += 1
            assert page < 10000

    def count(self):
        """result_info.total_count of the unfiltered list."""
        return self.page(per_page=5)["result_info"]["total_count"]

    def names(self, **params):
        return [h["hostname"] for h in self.all(**params)]

    # -- zone-level sub-resources
    def fallback(self, method, body=None, data=None):
        if data is not None:
            return self.request(method, "/fallback_origin", data=data,
                                headers={"Content-Type": "application/json"})
        return self.request(method, "/fallback_origin", json=body)

    def quota(self):
        return assert_ok(self.request("GET", "/quota"))["result"]


def stable(obj):
    """A hostname object without what the issuer may change over time (statuses, validation
    records and errors), to compare two reads of the same hostname."""
    o = copy.deepcopy(obj)
    for k in ("status", "verification_errors"):
        o.pop(k, None)
    ssl = o.get("ssl")
    if isinstance(ssl, dict):
        for k in ("status", "validation_records", "validation_errors", "dcv_delegation_records",
                  "certificates", "hosts", "issuer", "serial_number", "signature",
                  "uploaded_on", "expires_on"):
            ssl.pop(k, None)
    return o


# ---- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def saasedge_bin():
    if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
        pytest.fail(f"saasedge binary not found at {BIN} (run `make`, or set SAASEDGE_BIN)",
                    pytrace=False)
    return BIN


@pytest.fixture
def deploy(tmp_path):
    """Factory for deployments of their own (own data dir, own server(s)) for this test;
    every server is stopped at teardown and any misbehaviour fails the test."""
    made = []

    def make():
        d = Deployment(tmp_path / f"d{len(made)}")
        made.append(d)
        return d

    yield make
    finish_servers([s for d in made for s in d.servers])


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One running deployment shared by a test module (tests take their own zone from it)."""
    d = Deployment(tmp_path_factory.mktemp("shared"))
    d.start()
    yield d
    finish_servers(d.servers)


@pytest.fixture
def api(shared):
    """An Api on a fresh zone of the module's shared server."""
    return shared.new_api()
