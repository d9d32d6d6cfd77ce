"""The fallback origin's activation (issue 13, item 5): a PUT leaves it pending_deployment until
an edge has checked that it can send traffic there (the name resolves, through the edge's
resolver, to an address edge.origin_allow_networks allows); then it is active. When it cannot,
it stays pending_deployment with Cloudflare's error strings in `errors`, and becomes active once
the customer's DNS is fixed and the origin is PUT again. A new fallback origin takes traffic at
once for names the edge had cached with the old one. Names resolve through pebble-challtestsrv
(every name A 127.0.0.1 unless a test says otherwise)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import Deployment, assert_ok, finish_servers, uniq, wait_until
from edge_helpers import TestCA, curl, edge_ports, import_cert, split_status, wait_served
from peers import ChallTestSrv

DNS_ERROR = ("DNS records are not setup correctly. Origin should be a proxied A/AAAA/CNAME dns "
             "record")


class NamedOrigin:
    """A loopback HTTP origin that answers every request 200 with its own NAME."""

    def __init__(self, name):
        body = name.encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    srv = ChallTestSrv(tmp_path_factory.mktemp("fallback_dns"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def edge(tmp_path_factory, dns):
    """api and edge on one node; loopback origins allowed (the test's origins listen there)."""
    root = tmp_path_factory.mktemp("fallback_edge")
    d = Deployment(root)
    d.start(roles="api,edge", origin_allow="127.0.0.0/8",
            extra_args=["--edge.workers=1", "--dns.resolver", dns.resolver])
    d.ca = TestCA(root / "ca")
    d.https, d.http = edge_ports(d.server)
    yield d
    finish_servers(d.servers)


def fallback_when(api, pred, timeout=5):
    """The fallback origin once PRED holds for it (GET every 100 ms)."""
    got = {}

    def check():
        got.update(assert_ok(api.fallback("GET"))["result"])
        return pred(got)

    wait_until(check, timeout, "the fallback origin's status", interval=0.1)
    return got


def test_resolvable_fallback_origin_becomes_active(edge):
    api = edge.new_api()
    origin = f"{uniq('fb', 'provider-fallback.com')}:8080"
    put = assert_ok(api.fallback("PUT", {"origin": origin}))["result"]
    assert put["status"] in ("pending_deployment", "active")
    got = fallback_when(api, lambda f: f["status"] == "active")
    assert got["origin"] == origin and got["errors"] == []
    assert got["created_at"] == put["created_at"]


def test_fallback_origin_sent_in_capitals_becomes_active(edge):
    """The origin is answered in the case it was sent; the edge checks it as the name it is."""
    api = edge.new_api()
    origin = f"{uniq('FB', 'Provider-Fallback.COM')}:8080"
    assert_ok(api.fallback("PUT", {"origin": origin}))
    got = fallback_when(api, lambda f: f["status"] == "active")
    assert got["origin"] == origin and got["errors"] == []


def test_unusable_fallback_origin_shows_why_and_activates_once_fixed(edge, dns):
    api = edge.new_api()
    name = uniq("fb", "provider-fallback.com")
    dns.set_servfail(name)
    try:
        assert_ok(api.fallback("PUT", {"origin": name}))
        got = fallback_when(api, lambda f: f["errors"])
        assert got["status"] == "pending_deployment"
        assert got["errors"] == [DNS_ERROR]
    finally:
        dns.clear_servfail(name)
    # An address outside the allowed networks is no better than no address.
    dns.add_a(name, ["10.0.0.7"])
    try:
        assert_ok(api.fallback("PUT", {"origin": name}))
        got = fallback_when(api, lambda f: "edge.origin_allow_networks" in str(f["errors"]))
        assert got["status"] == "pending_deployment"
        assert all(isinstance(e, str) for e in got["errors"]), got
    finally:
        dns.clear_a(name)
    # The customer fixed the record and the provider saves the origin again.
    assert_ok(api.fallback("PUT", {"origin": name}))
    got = fallback_when(api, lambda f: f["status"] == "active")
    assert got["errors"] == []


def test_new_fallback_origin_takes_traffic_of_cached_names(edge):
    """A name served (and cached by the edge) through the old fallback origin goes to the new
    one as soon as it is saved, without a change to the hostname itself."""
    one, two = NamedOrigin("origin-one"), NamedOrigin("origin-two")
    try:
        creds = edge.zone()
        api = edge.api(creds)
        assert_ok(api.fallback("PUT", {"origin": f"127.0.0.1:{one.port}"}))
        name = uniq("fbroute")
        api.create(name, ssl={"method": "http", "type": "dv"})
        chain, key, serial = edge.ca.leaf([name], "ec")
        import_cert(edge.data, name, chain, key)
        wait_served(edge.https, name, serial, 5)
        code, body = split_status(curl(edge.https, name, "/"))
        assert (code, body) == (200, b"origin-one")
        assert_ok(api.fallback("PUT", {"origin": f"127.0.0.1:{two.port}"}))
        wait_until(lambda: split_status(curl(edge.https, name, "/")) == (200, b"origin-two"),
                   3, "traffic through the new fallback origin")
    finally:
        one.close()
        two.close()
