"""http-01 end to end: the issuer stores the key authorization, saasedge's edge answers
/.well-known/acme-challenge/<token> on its HTTP listener, Pebble fetches it there (the name
resolves to 127.0.0.1 through pebble-challtestsrv), and the edge then serves the new pack."""

import re
import time

import pytest

from conftest import free_port, uniq, wait_until
from edge_helpers import edge_verifies
from issuance_helpers import (check_ssl_fields, create_ssl, start_issuer_with_edge,
                              stored_certificates, verify_chain, wait_records, wait_status)
from peers import ChallTestSrv, edge_http_key, pebble_and_dns


@pytest.fixture
def peers(tmp_path):
    if not edge_http_key():
        pytest.skip("this build has no edge (edge.http_listen) to answer http-01")
    http_port, https_port = free_port(), free_port()
    with pebble_and_dns(tmp_path, http_port=http_port, tls_port=https_port) as (dns, pebble):
        yield dns, pebble, http_port, https_port


def test_http_via_acme_through_the_edge(deploy, peers, tmp_path):
    dns, pebble, http_port, https_port = peers
    d = deploy()
    creds = d.zone()
    start_issuer_with_edge(d, dns, pebble.saasedge_args(), http_port, https_port)
    api = d.api(creds)
    host = uniq("http")
    h = create_ssl(api, host, "http")
    records = wait_records(api, h["id"])
    for r in records:
        assert r["http_url"].startswith(f"http://{host}/.well-known/acme-challenge/"), r
        assert r["http_body"].startswith(r["http_url"].rsplit("/", 1)[1] + "."), r

    h = wait_status(api, h["id"], ("pending_deployment", "active"))

    check_ssl_fields(h, [host])
    root = pebble.root_pem()
    for leaf, chain in stored_certificates(d.data, h["ssl"]["id"]).values():
        verify_chain(tmp_path, root, leaf, chain, host)
    # What a visitor gets: the ECDSA chain, or the RSA one for a client without ECDSA.
    (tmp_path / "pebble-root.pem").write_text(root)
    assert edge_verifies(https_port, host, tmp_path / "pebble-root.pem")
    assert edge_verifies(https_port, host, tmp_path / "pebble-root.pem",
                         "-sigalgs", "RSA-PSS+SHA256:RSA-PSS+SHA384", "-tls1_3")


def test_http_preflight_waits_for_the_name_to_reach_the_edge(deploy, peers):
    """Until the name points at the edge, saasedge fetches the token itself and says why it
    fails, instead of letting the CA fail (and spend) a validation."""
    dns, pebble, http_port, https_port = peers
    d = deploy()
    creds = d.zone()
    start_issuer_with_edge(d, dns, pebble.saasedge_args(), http_port, https_port)
    api = d.api(creds)
    host = uniq("httppre")
    dns.add_a(host, ["127.0.0.2"])  # the customer's CNAME has not moved yet: nothing there
    h = create_ssl(api, host, "http")

    def preflight_error():
        ssl = api.fetch(h["id"])["ssl"]
        errors = " ".join(e["message"] for e in ssl.get("validation_errors") or [])
        return ssl if f"fetching http://{host}/.well-known/acme-challenge/" in errors else None

    ssl = wait_until(preflight_error, 60, "the pre-flight fetch error")
    assert ssl["status"] == "pending_validation", ssl
    dns.clear_a(host)  # now it resolves to 127.0.0.1, where the edge listens
    assert api.patch(h["id"], {"ssl": {"method": "http", "type": "dv"}}).status_code == 202
    h = wait_status(api, h["id"], ("pending_deployment", "active"))
    assert not h["ssl"].get("validation_errors"), h["ssl"]


def test_http_via_internal_ca_through_the_edge(deploy, tmp_path):
    if not edge_http_key():
        pytest.skip("this build has no edge (edge.http_listen) to answer http-01")
    dns = ChallTestSrv(tmp_path)  # every name: A 127.0.0.1, where the edge listens
    try:
        d = deploy()
        creds = d.zone()
        start_issuer_with_edge(d, dns, ["--issuance.default_ca", "internal"])
        api = d.api(creds)
        host = uniq("ihttp")
        h = create_ssl(api, host, "http")
        records = wait_records(api, h["id"])
        assert records[0]["http_url"].startswith(
            f"http://{host}/.well-known/acme-challenge/"), records

        h = wait_status(api, h["id"], ("pending_deployment", "active"))

        check_ssl_fields(h, [host])
        root = (d.data / "ca" / "root.pem").read_text()
        for leaf, chain in stored_certificates(d.data, h["ssl"]["id"]).values():
            verify_chain(tmp_path, root, leaf, chain, host)
    finally:
        dns.stop()


def test_ownership_by_http_token_through_the_edge(deploy, tmp_path):
    if not edge_http_key():
        pytest.skip("this build has no edge (edge.http_listen) to serve the ownership token")
    dns = ChallTestSrv(tmp_path)  # every name: A 127.0.0.1, where the edge listens
    try:
        d = deploy()
        creds = d.zone()
        start_issuer_with_edge(d, dns)
        api = d.api(creds)
        h = api.create(uniq("ownhttp"))
        assert h["status"] == "pending"

        from conftest import wait_until
        wait_until(lambda: api.fetch(h["id"])["status"] == "active", 30,
                   "hostname active through its HTTP ownership token", interval=0.05)
    finally:
        dns.stop()


def test_order_limit_spreads_orders_over_the_window(deploy, peers):
    """ca.<name>.order_limit: with 2 orders per 8 s, two hostnames (4 orders: ECDSA, then RSA)
    cannot all be ordered at once. The ones that wait say why in validation_errors, and every
    certificate is still issued, the last orders only once the window has room."""
    dns, pebble, http_port, https_port = peers
    d = deploy()
    creds = d.zone()
    start_issuer_with_edge(d, dns, [*pebble.saasedge_args(), "--ca.pebble.order_limit=2/8s"],
                           http_port, https_port)
    api = d.api(creds)
    t0 = time.monotonic()
    made = [create_ssl(api, uniq(f"limit{i}"), "http") for i in range(2)]
    seen = {}

    def limited():
        for h in made:
            for e in api.fetch(h["id"])["ssl"].get("validation_errors") or []:
                if "order limit (2/8s) is reached" in e["message"]:
                    seen["message"] = e["message"]
                    return True
        return False

    wait_until(limited, 20, "a hostname waiting for the order limit to say so")
    assert re.search(r"certificate authority pebble: .* the next order is made in \d+ s",
                     seen["message"]), seen
    for h in made:
        done = wait_status(api, h["id"], ("pending_deployment", "active"), timeout=60)
        assert not done["ssl"].get("validation_errors"), done["ssl"]
        assert len(stored_certificates(d.data, done["ssl"]["id"])) == 2
    # Four orders at two per 8 s: the last two could not start before the window moved.
    assert time.monotonic() - t0 >= 8
