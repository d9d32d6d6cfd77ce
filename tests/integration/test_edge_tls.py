"""The edge's TLS side: certificate choice by SNI and signature algorithms, unknown names, a
certificate replaced in the store served without a restart, per-hostname TLS settings, and
pending_deployment becoming active once the edge serves it."""

import re
import subprocess
import time

import pytest

from conftest import Deployment, finish_servers, uniq, wait_until
from edge_helpers import TestCA, edge_ports, import_cert, s_client, wait_served

RSA_13 = ("-sigalgs", "RSA-PSS+SHA256:RSA-PSS+SHA384", "-tls1_3")
RSA_12 = ("-sigalgs", "RSA+SHA256", "-tls1_2")


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    root = tmp_path_factory.mktemp("edge_tls")
    d = Deployment(root)
    d.start(roles="api,edge", extra_args=["--edge.workers=2"])
    d.ca = TestCA(root / "ca")
    d.creds = d.zone()
    d.https, d.http = edge_ports(d.server)
    yield d
    finish_servers(d.servers)


def hostname_with_ssl(edge):
    api = edge.api(edge.creds)
    name = uniq("tls")
    h = api.create(name, ssl={"method": "http", "type": "dv"})
    return api, name, h


def test_ecdsa_by_default_rsa_for_rsa_only_clients(edge):
    api, name, h = hostname_with_ssl(edge)
    ec_chain, ec_key, ec_serial = edge.ca.leaf([name], "ec")
    rsa_chain, rsa_key, rsa_serial = edge.ca.leaf([name], "rsa")
    import_cert(edge.data, name, ec_chain, ec_key)
    import_cert(edge.data, name, rsa_chain, rsa_key)
    imported = time.monotonic()

    # Each import reaches the edge through the change feed, both within a second of the last
    # commit (the ECDSA one may be served a moment before the edge has seen the RSA one).
    # Timed with in-process handshakes: an s_client costs up to a second on a loaded machine.
    wait_served(edge.https, name, ec_serial, 5)
    wait_served(edge.https, name, rsa_serial, 5, rsa_only=True)
    took = time.monotonic() - imported
    assert took < 1.0, f"both certificates served after {took:.2f}s"
    ok, serial, out = s_client(edge.https, name, *RSA_13)
    assert ok and serial == rsa_serial, out
    ok, serial, out = s_client(edge.https, name, *RSA_12)
    assert ok and serial == rsa_serial, out
    ok, serial, out = s_client(edge.https, name, "-tls1_2")
    assert ok and serial == ec_serial, out


def test_each_certificate_served_whichever_type_is_asked_first(edge):
    """A miss decodes only the certificate its client gets; the other one is decoded on its
    first use, and a replaced one is never served from what was decoded before."""
    api, name, h = hostname_with_ssl(edge)
    ec_chain, ec_key, ec_serial = edge.ca.leaf([name], "ec")
    rsa_chain, rsa_key, rsa_serial = edge.ca.leaf([name], "rsa")
    import_cert(edge.data, name, rsa_chain, rsa_key)
    import_cert(edge.data, name, ec_chain, ec_key)
    # `active` is the edge's word that it serves what was stored last: both certificates. (An
    # edge that loaded the pack between the two imports must not say so: that entry has only
    # the RSA certificate.)
    wait_until(lambda: api.fetch(h["id"])["ssl"]["status"] == "active", 5,
               "the pack deployed")

    # Settings change: the edge drops its entry, and an RSA-only client is the first to ask.
    api.patch(h["id"], {"ssl": {"settings": {"min_tls_version": "1.3"}}})
    wait_until(lambda: not s_client(edge.https, name, *RSA_12)[0], 5, "TLS 1.2 refused")
    for _ in range(2):
        ok, serial, out = s_client(edge.https, name)
        assert ok and serial == ec_serial, out
        ok, serial, out = s_client(edge.https, name, *RSA_13)
        assert ok and serial == rsa_serial, out

    rsa_chain2, rsa_key2, rsa_serial2 = edge.ca.leaf([name], "rsa")
    import_cert(edge.data, name, rsa_chain2, rsa_key2)
    # (How soon is the first test's business: TLS 1.2 is refused here, and an in-process client
    # cannot offer TLS 1.3 with RSA signatures only.)
    wait_served(edge.https, name, rsa_serial2, 5, *RSA_13)
    ok, serial, out = s_client(edge.https, name)
    assert ok and serial == ec_serial, out


def test_unknown_or_missing_sni_is_rejected(edge):
    for name in (uniq("nobody"), None):
        ok, serial, out = s_client(edge.https, name)
        assert not ok and serial is None, out
        assert "alert" in out and "unrecognized name" in out, out


def test_known_hostname_without_certificate_is_rejected(edge):
    _, name, _ = hostname_with_ssl(edge)
    ok, serial, out = s_client(edge.https, name)
    assert not ok and serial is None, out


def test_new_and_replaced_certificate_served_within_a_second(edge):
    api, name, h = hostname_with_ssl(edge)
    # Cached as "nothing to serve" first, so that the import must reach the edge by the feed.
    assert not s_client(edge.https, name)[0]
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    took = wait_served(edge.https, name, serial, 5)
    assert took < 1.0, f"new certificate served after {took:.2f}s"

    chain2, key2, serial2 = edge.ca.leaf([name], "ec")
    assert serial2 != serial
    import_cert(edge.data, name, chain2, key2)
    took = wait_served(edge.https, name, serial2, 5)
    assert took < 1.0, f"replaced certificate served after {took:.2f}s"


def test_pending_deployment_becomes_active_once_the_edge_loads_it(edge):
    api, name, h = hostname_with_ssl(edge)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    # The change feed loads the new pack within ~200 ms and activates it: the status may
    # already be active here, and it gets there without any visitor's handshake.
    assert api.fetch(h["id"])["ssl"]["status"] in ("pending_deployment", "active")
    wait_until(lambda: api.fetch(h["id"])["ssl"]["status"] == "active", 5,
               "ssl.status active once the edge has loaded the certificate")
    wait_served(edge.https, name, serial, 5)


def test_min_tls_version_13_refuses_tls12(edge):
    api, name, h = hostname_with_ssl(edge)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, name, serial, 5, "-tls1_2")
    # settings alone: a DCV method would replace the imported (uploaded) certificate
    api.edit(h["id"], {"ssl": {"settings": {"min_tls_version": "1.3"}}})

    def tls12_refused():
        return not s_client(edge.https, name, "-tls1_2")[0]

    wait_until(tls12_refused, 5, "TLS 1.2 refused after min_tls_version 1.3")
    ok, got, out = s_client(edge.https, name, "-tls1_3")
    assert ok and got == serial, out


def test_wildcard_hostname_serves_its_subdomains(edge):
    api = edge.api(edge.creds)
    parent = uniq("wild")
    name = "*." + parent
    api.create(name, ssl={"method": "txt", "type": "dv", "wildcard": True})
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, "a." + parent, serial, 5)
    ok, got, out = s_client(edge.https, "b." + parent)
    assert ok and got == serial, out
    # Only one label: a.b.<parent> is not covered.
    assert not s_client(edge.https, "a.b." + parent)[0]


def test_import_rejects_mismatched_key_and_uncovered_name(edge):
    _, name, _ = hostname_with_ssl(edge)
    chain, key, _ = edge.ca.leaf([name], "ec")
    _, other_key, _ = edge.ca.leaf([name], "ec")
    p = import_cert(edge.data, name, chain, other_key, check=False)
    assert p.returncode != 0 and "does not match" in p.stderr
    other_chain, other_key2, _ = edge.ca.leaf([uniq("other")], "ec")
    p = import_cert(edge.data, name, other_chain, other_key2, check=False)
    assert p.returncode != 0 and "does not cover" in p.stderr
    ghost = uniq("ghost")
    ghost_chain, ghost_key, _ = edge.ca.leaf([ghost], "ec")
    p = import_cert(edge.data, ghost, ghost_chain, ghost_key, check=False)
    assert p.returncode != 0 and "no hostname" in p.stderr



def test_alpn_prefers_h2_by_default(edge):
    """As nginx, HAProxy and Caddy do: h2 for a client that offers it, HTTP/1.1 for one that
    offers only that, and a handshake without ALPN for one that offers neither."""
    api, name, h = hostname_with_ssl(edge)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, name, serial, 5)
    ok, _, out = s_client(edge.https, name, "-alpn", "http/1.1,h2")
    assert ok and "ALPN protocol: h2" in out, out
    ok, _, out = s_client(edge.https, name, "-alpn", "http/1.1")
    assert ok and "ALPN protocol: http/1.1" in out, out
    ok, _, out = s_client(edge.https, name, "-alpn", "spdy/3")
    assert ok and "No ALPN negotiated" in out, out


def test_session_tickets_resume_across_edges(edge, tmp_path):
    """Ticket keys live in the store: a second edge on the same store resumes the first's
    sessions."""
    api, name, h = hostname_with_ssl(edge)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, name, serial, 5)
    first_https = edge.https
    second = edge.start(roles="api,edge", extra_args=["--edge.workers=1"])
    second_https, _ = edge_ports(second)
    sess = tmp_path / "sess.pem"
    ok, _, out = s_client(first_https, name, "-tls1_2", "-sess_out", str(sess))
    assert ok and sess.exists(), out
    for port in (first_https, second_https):
        ok, got, out = s_client(port, name, "-tls1_2", "-sess_in", str(sess))
        assert ok, out
        assert "Reused, TLSv1.2" in out, f"not resumed on port {port}:\n{out}"


def tls13_exchange(port, name, *extra):
    """One TLS 1.3 connection that sends a request and reads until the edge closes (so that the
    session tickets, sent after the handshake, are read) -> (NewSessionTicket messages, output)."""
    req = f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n"
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", name,
           "-tls1_3", "-msg", "-ign_eof", *extra]
    p = subprocess.run(cmd, input=req, capture_output=True, text=True, timeout=15)
    out = p.stdout + p.stderr
    return len(re.findall(r"<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], NewSessionTicket",
                          out)), out


def test_one_session_ticket_per_tls13_handshake_and_it_resumes(edge, tmp_path):
    """OpenSSL's default is two tickets per handshake (two encryptions and records); the edge
    sends one, and it resumes a TLS 1.3 session."""
    api, name, h = hostname_with_ssl(edge)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, name, serial, 5)
    sess = tmp_path / "sess13.pem"
    tickets, out = tls13_exchange(edge.https, name, "-sess_out", str(sess))
    assert tickets == 1 and sess.exists(), out
    tickets, out = tls13_exchange(edge.https, name, "-sess_in", str(sess))
    assert "Reused, TLSv1.3" in out, out


def test_session_tickets_zero_sends_none(edge):
    api, name, h = hostname_with_ssl(edge)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, name, serial, 5)
    quiet = edge.start(roles="api,edge", extra_args=["--edge.workers=1", "--edge.session_tickets=0"])
    quiet_https, _ = edge_ports(quiet)
    wait_served(quiet_https, name, serial, 5)
    tickets, out = tls13_exchange(quiet_https, name)
    assert tickets == 0 and "HTTP/1.1" in out, out
    tickets, out = tls13_exchange(edge.https, name)
    assert tickets == 1, out
