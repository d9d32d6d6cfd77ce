"""Issuance from the internal CA: saasedge shows its own TXT token, looks it up itself through
dns.resolver (a real DNS server, pebble-challtestsrv), and signs ECDSA + RSA certificates that
verify against DATA_DIR/ca/root.pem."""

import pytest

from conftest import uniq
from issuance_helpers import (check_ssl_fields, create_ssl, drive_txt, key_algorithm,
                              start_issuer, stored_certificates, verify_chain, wait_records,
                              wait_status)
from peers import ChallTestSrv


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    srv = ChallTestSrv(tmp_path_factory.mktemp("dns"))
    yield srv
    srv.stop()


def test_internal_ca_via_txt(deploy, dns, tmp_path):
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns)
    api = d.api(creds)
    host = uniq("int")
    h = create_ssl(api, host, "txt", certificate_authority="internal")
    records = wait_records(api, h["id"])
    assert records == [{"txt_name": f"_acme-challenge.{host}",
                        "txt_value": records[0]["txt_value"]}], records
    # cloudflare-go v0 reads the first record at the top of ssl, as Cloudflare still sends it.
    shown = api.fetch(h["id"])["ssl"]
    assert {k: shown.get(k) for k in ("txt_name", "txt_value")} == records[0], shown
    assert not {"http_url", "http_body", "cname", "cname_target"} & set(shown), shown
    assert wait_status(api, h["id"], "pending_validation")

    h, _ = drive_txt(api, dns, h["id"])

    assert "certificate_authority" not in h["ssl"], h["ssl"]
    check_ssl_fields(h, [host])
    root = (d.data / "ca" / "root.pem").read_text()
    certs = stored_certificates(d.data, h["ssl"]["id"])
    assert set(certs) == {"ecdsa", "rsa"}
    for kind, (leaf, chain) in certs.items():
        assert key_algorithm(leaf) == ("ec" if kind == "ecdsa" else "rsa")
        verify_chain(tmp_path, root, leaf, chain, host)


def test_internal_wrong_txt_is_explained(deploy, dns):
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, ["--issuance.validation_timeout", "4"])
    api = d.api(creds)
    host = uniq("wrong")
    h = create_ssl(api, host, "txt", certificate_authority="internal")
    records = wait_records(api, h["id"])
    dns.set_txt(records[0]["txt_name"], "not-the-value")

    h = wait_status(api, h["id"], "validation_timed_out")

    msg = h["ssl"]["validation_errors"][0]["message"]
    assert f"TXT record _acme-challenge.{host} not found: expected " in msg, msg
    assert records[0]["txt_value"] in msg, msg

    # Repeating the method (Cloudflare's recheck) starts a timed-out pack over.
    from conftest import assert_ok
    assert_ok(api.patch(h["id"], {"ssl": {"method": "txt", "type": "dv",
                                          "certificate_authority": "internal"}}), 202)
    dns.clear_txt(records[0]["txt_name"])
    h, _ = drive_txt(api, dns, h["id"])
    assert not h["ssl"].get("validation_errors"), h["ssl"]


def test_renewal_replaces_certificates_while_serving(deploy, dns):
    d = deploy()
    creds = d.zone()
    # Certificates live 60 s and renew 50-55 s before they expire: a renewal within seconds.
    start_issuer(d, dns, ["--issuance.internal_validity", "60", "--issuance.renew_before",
                          "50"])
    api = d.api(creds)
    host = uniq("renew")
    h = create_ssl(api, host, "txt", certificate_authority="internal")
    wait_records(api, h["id"])
    h, _ = drive_txt(api, dns, h["id"])
    first = {c["fingerprint_sha256"] for c in h["ssl"]["certificates"]}
    pack = h["ssl"]["id"]
    statuses = set()

    def renewed():
        cur = api.fetch(h["id"])
        statuses.add(cur["ssl"]["status"])
        fps = {c["fingerprint_sha256"] for c in cur["ssl"].get("certificates", [])}
        return cur if len(fps) == 2 and not fps & first else None

    from conftest import wait_until
    cur = wait_until(renewed, 40, "renewed certificates", interval=0.05)

    # The pack stayed deployable (its old certificates served) throughout the renewal.
    assert statuses <= {"pending_deployment", "active"}, statuses
    assert cur["ssl"]["id"] == pack
    certs = stored_certificates(d.data, pack)
    assert set(certs) == {"ecdsa", "rsa"}  # replaced, not added
    assert cur["ssl"]["expires_on"] > h["ssl"]["expires_on"]


def wait_hostname_status(api, hid, status, timeout=30):
    from conftest import wait_until
    return wait_until(lambda: (lambda h: h if h["status"] == status else None)(api.fetch(hid)),
                      timeout, f"hostname status {status}", interval=0.05)


def test_ownership_by_txt_token(deploy, dns):
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns)
    api = d.api(creds)
    host = uniq("own")
    h = api.create(host)
    assert h["status"] == "pending"

    def explained():
        errs = api.fetch(h["id"]).get("verification_errors") or []
        assert all(isinstance(e, str) for e in errs), errs  # strings, as Cloudflare has them
        return any(f"_cf-custom-hostname.{host}" in e for e in errs)

    from conftest import wait_until
    wait_until(explained, 30, "a verification error naming the TXT record")
    ov = h["ownership_verification"]
    dns.set_txt(ov["name"], ov["value"])

    h = wait_hostname_status(api, h["id"], "active")
    assert not h.get("verification_errors"), h


def test_ownership_by_cname_to_the_zone_target(deploy, dns):
    d = deploy()
    creds = d.zone(cname_target="customers.provider-edge.com")
    start_issuer(d, dns)
    api = d.api(creds)
    host = uniq("cname")
    h = api.create(host)
    dns.set_cname(host, "customers.provider-edge.com")

    wait_hostname_status(api, h["id"], "active")
