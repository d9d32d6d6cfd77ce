"""Origins on internal addresses (issue 10, findings 5 and 8) and server names that are not
hostnames (finding 2). Without edge.origin_allow_networks, the API refuses internal IP literals
and names as custom_origin_server and fallback origin; the edge refuses an origin whose name
resolves to loopback at connect time (DNS rebinding) and a stored literal one, and the origin
sees no connection; the http DCV pre-flight never connects to an internal address. An SNI with
CR LF (or "*.") under a wildcard hostname gets an alert and the origin receives nothing."""

import socket
import subprocess
import threading
import time

import pytest

from conftest import Deployment, assert_error, assert_ok, finish_servers, uniq, wait_until
from edge_helpers import TestCA, curl, edge_ports, import_cert, split_status, wait_served
from peers import ChallTestSrv

LOOPBACK = "127.0.0.0/8,::1/128"


class RecordingOrigin:
    """A loopback origin that counts the connections it accepts and keeps what each sent; it
    answers every request 200 "ok" and closes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def connections(self):
        with self.lock:
            return len(self.received)

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        data = b""
        with self.lock:
            slot = len(self.received)
            self.received.append(b"")
        conn.settimeout(5)
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                with self.lock:
                    self.received[slot] = data
            if data:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    """pebble-challtestsrv: every name answers A 127.0.0.1."""
    srv = ChallTestSrv(tmp_path_factory.mktemp("ssrf_dns"))
    yield srv
    srv.stop()


def start_edge(root, dns, allow):
    d = Deployment(root)
    d.start(roles="api,edge", origin_allow=allow,
            extra_args=["--edge.workers=1", "--edge.connect_timeout=2",
                        "--dns.resolver", dns.resolver])
    d.ca = TestCA(root / "ca")
    d.creds = d.zone()
    d.https, d.http = edge_ports(d.server)
    return d


@pytest.fixture(scope="module")
def strict(tmp_path_factory, dns):
    """An edge with the default policy: no internal network allowed."""
    d = start_edge(tmp_path_factory.mktemp("ssrf_strict"), dns, None)
    yield d
    finish_servers(d.servers)


@pytest.fixture(scope="module")
def loopback(tmp_path_factory, dns):
    """An edge whose operator allows loopback origins."""
    d = start_edge(tmp_path_factory.mktemp("ssrf_loopback"), dns, LOOPBACK)
    yield d
    finish_servers(d.servers)


def internal_origins(d):
    return ["169.254.169.254", "[::1]:22", f"0.0.0.0:{d.server.port}", "localhost:6379",
            "metadata.google.internal", "https://metadata.google.internal:443",
            f"127.0.0.1:{d.server.port}", "10.0.0.7:8080", "[fd00::5]",
            "[::ffff:169.254.169.254]", "api.localhost:80", "100.100.100.200"]


# ---- the API ----------------------------------------------------------------------------------


def test_api_refuses_internal_custom_origins(strict):
    api = strict.new_api()
    kept = api.create(uniq("ssrf"), custom_origin_server="origin.provider-ssrf.com")
    for origin in internal_origins(strict):
        r = api.post({"hostname": uniq("ssrf"), "custom_origin_server": origin})
        assert_error(r, 400, 1415)
        assert "edge.origin_allow_networks" in r.json()["errors"][0]["message"], r.json()
        r = api.patch(kept["id"], {"custom_origin_server": origin})
        assert_error(r, 400, 1415)
    # other spellings of an address are not hostnames either (already refused as such)
    assert_error(api.post({"hostname": uniq("ssrf"), "custom_origin_server": "2130706433:80"}),
                 400, 1415)
    # nothing was stored: the hostname keeps its origin, and no hostname was created
    assert api.fetch(kept["id"])["custom_origin_server"] == "origin.provider-ssrf.com"
    assert api.count() == 1


def test_api_refuses_internal_fallback_origins(strict):
    api = strict.new_api()
    assert_ok(api.fallback("PUT", {"origin": "fallback.provider-ssrf.com"}))
    for origin in internal_origins(strict):
        r = api.fallback("PUT", {"origin": origin})
        assert_error(r, 400, 1415)
    got = assert_ok(api.fallback("GET"))["result"]
    assert got["origin"] == "fallback.provider-ssrf.com"


def test_api_takes_what_the_allow_list_lists(loopback):
    api = loopback.api(loopback.creds)
    for origin in ("127.0.0.1:8080", "[::1]:22", "localhost:6379", "api.localhost"):
        assert_ok(api.post({"hostname": uniq("ssrfok"), "custom_origin_server": origin}), 201)
    assert_ok(loopback.new_api().fallback("PUT", {"origin": "127.0.0.1:9000"}))
    for origin in ("169.254.169.254", "metadata.google.internal", "10.0.0.7",
                   f"0.0.0.0:{loopback.server.port}"):
        assert_error(api.post({"hostname": uniq("ssrf"), "custom_origin_server": origin}),
                     400, 1415)


# ---- the edge, at connect time ----------------------------------------------------------------


def served(d, origin_server):
    """A hostname with ORIGIN_SERVER as custom origin and a certificate the edge serves."""
    api = d.api(d.creds)
    name = uniq("ssrf")
    api.create(name, custom_origin_server=origin_server, ssl={"method": "http", "type": "dv"})
    chain, key, serial = d.ca.leaf([name], "ec")
    import_cert(d.data, name, chain, key)
    wait_served(d.https, name, serial, 5)
    return name


def test_origin_name_resolving_to_loopback_is_refused_at_connect(strict):
    """The API cannot know what a name resolves to (or will, after a DNS change): the edge
    checks the address it is about to dial."""
    origin = RecordingOrigin()
    try:
        name = served(strict, f"{uniq('rebind', 'origin-ssrf.com')}:{origin.port}")
        code, body = split_status(curl(strict.https, name, "/secret"))
        assert code == 502, body
        assert b"not allowed" in body, body
        time.sleep(0.3)
        assert origin.connections == 0, origin.received
    finally:
        origin.close()


def test_same_origin_name_is_proxied_when_loopback_is_allowed(loopback):
    origin = RecordingOrigin()
    try:
        name = served(loopback, f"{uniq('rebind', 'origin-ssrf.com')}:{origin.port}")
        code, body = split_status(curl(loopback.https, name, "/fine"))
        assert code == 200 and body == b"ok", body
        assert origin.connections == 1
        assert origin.received[0].startswith(b"GET /fine HTTP/1.1\r\n")
    finally:
        origin.close()


def test_stored_literal_origin_is_refused_once_the_policy_changes(tmp_path, dns):
    """A loopback literal stored while the operator allowed it is not dialled once the
    allow-list no longer lists it: literals meet the same check as resolved names."""
    origin = RecordingOrigin()
    d = start_edge(tmp_path, dns, LOOPBACK)
    try:
        name = served(d, f"127.0.0.1:{origin.port}")
        code, body = split_status(curl(d.https, name, "/"))
        assert code == 200 and origin.connections == 1
        d.server.origin_allow = None
        d.server.restart()
        d.https, d.http = edge_ports(d.server)
        code, body = split_status(curl(d.https, name, "/"))
        assert code == 502 and b"not allowed" in body, body
        time.sleep(0.3)
        assert origin.connections == 1
    finally:
        origin.close()
        finish_servers(d.servers)


def test_bad_allow_list_stops_start_up(tmp_path):
    d = Deployment(tmp_path)
    for bad in ("10.0.0.1/8", "127.0.0.0/33", "localhost", "10.0.0.0/8,,::1/128"):
        s = d.start(roles="api", origin_allow=bad, wait=False)
        s.proc.wait(timeout=20)
        assert s.proc.returncode != 0
        err = s.stderr()
        assert "edge.origin_allow_networks" in err, err
        assert "," in bad or f'"{bad}"' in err, err
        s.proc = None


# ---- the issuer's http DCV pre-flight ----------------------------------------------------------


def test_http_dcv_preflight_does_not_probe_internal_addresses(tmp_path, dns):
    """The customer's name resolves to 127.0.0.1 (the pre-flight's target port is where a
    listener records connections): without the allow-list the issuer says the address is not
    allowed and never connects, so nothing about that port comes back."""
    probe = RecordingOrigin()
    d = Deployment(tmp_path)
    try:
        creds = d.zone()
        d.start(roles="api,issuer", origin_allow=None,
                extra_args=["--dns.resolver", dns.resolver, "--issuance.default_ca=internal",
                            f"--edge.http_listen=127.0.0.1:{probe.port}"])
        api = d.api(creds)
        host = uniq("ssrfdcv")
        h = assert_ok(api.post({"hostname": host, "ssl": {"method": "http", "type": "dv"}}),
                      201)["result"]

        def refused():
            ssl = api.fetch(h["id"])["ssl"]
            errors = " ".join(e["message"] for e in ssl.get("validation_errors") or [])
            return errors if "internal address" in errors else None

        errors = wait_until(refused, 60, "the pre-flight's refusal in validation_errors")
        assert "127.0.0.1" in errors and "refused" not in errors.lower(), errors
        time.sleep(0.5)
        assert probe.connections == 0, probe.received
    finally:
        probe.close()
        finish_servers(d.servers)


# ---- server names -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wildcard(loopback):
    """*.<parent> with a certificate, its origin a RecordingOrigin -> (parent, origin)."""
    origin = RecordingOrigin()
    api = loopback.api(loopback.creds)
    parent = uniq("wild", "ssrf-sni.com")
    api.create("*." + parent, custom_origin_server=f"127.0.0.1:{origin.port}",
               ssl={"method": "txt", "type": "dv", "wildcard": True})
    chain, key, serial = loopback.ca.leaf(["*." + parent], "ec")
    import_cert(loopback.data, "*." + parent, chain, key)
    wait_served(loopback.https, "a." + parent, serial, 5)
    yield parent, origin
    origin.close()


def raw_sni_request(port, servername):
    """openssl s_client with SERVERNAME's bytes as SNI (Python's ssl refuses such names), then
    a request without Host, so that the edge would take the SNI as the Host."""
    p = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", servername,
         "-quiet", "-no_ign_eof"],
        input=b"GET /smuggle HTTP/1.1\r\n\r\n", capture_output=True, timeout=15)
    return p.stdout + p.stderr


@pytest.mark.parametrize("sni", [
    "x\r\ntransfer-encoding: chunked\r\nx-pad: y.{parent}",
    "*.{parent}",
    "a b.{parent}",
    "a_b.{parent}",
    "-a.{parent}",
    "a..{parent}",
    "\u00e9.{parent}",
])
def test_sni_that_is_not_a_hostname_gets_an_alert(loopback, wildcard, sni):
    parent, origin = wildcard
    before = origin.connections
    out = raw_sni_request(loopback.https, sni.format(parent=parent))
    assert b"unrecognized name" in out, out
    assert b"200 OK" not in out and b"HTTP/1.1" not in out, out
    time.sleep(0.3)
    assert origin.connections == before, origin.received[before:]
    assert "transfer-encoding" not in loopback.server.stderr().lower()


def test_valid_sni_under_the_wildcard_still_proxies(loopback, wildcard):
    parent, origin = wildcard
    before = origin.connections
    code, body = split_status(curl(loopback.https, "shop." + parent, "/ok"))
    assert code == 200 and body == b"ok", body
    assert origin.connections == before + 1
