"""Issuance through a real ACME CA (Pebble) with DCV answered by a real DNS server
(pebble-challtestsrv): the issuer orders, shows validation_records, checks them itself before
spending a CA validation, and stores ECDSA + RSA certificates that verify against Pebble's root."""

import pytest

from conftest import uniq
from issuance_helpers import (check_ssl_fields, create_ssl, drive_txt, key_algorithm,
                              publish_txt,
                              start_issuer, stored_certificates, verify_chain, wait_records,
                              wait_status)
from peers import pebble_and_dns

DONE = ("pending_deployment", "active")


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    with pebble_and_dns(tmp_path_factory.mktemp("peers")) as both:
        yield both


def issue_txt(api, dns, host, **ssl):
    h = create_ssl(api, host, "txt", **ssl)
    assert h["ssl"]["status"] in ("initializing", "pending_validation")
    wait_records(api, h["id"])
    h, records = drive_txt(api, dns, h["id"])
    return h["id"], records, h


def test_txt_via_acme_issues_both_keys(deploy, peers, tmp_path):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, pebble.saasedge_args())
    api = d.api(creds)
    host = uniq("acme")

    hid, records, h = issue_txt(api, dns, host)

    assert all(r["txt_name"] == f"_acme-challenge.{host}" for r in records), records
    assert 1 <= len(records) <= 2, records  # one per order, one only when the CA reused it
    # Pebble is none of Cloudflare's CAs: left out, the certificate's issuer says who signed
    assert "certificate_authority" not in h["ssl"], h["ssl"]
    assert h["ssl"]["issuer"].startswith("Pebble"), h["ssl"]
    check_ssl_fields(h, [host])
    certs = stored_certificates(d.data, h["ssl"]["id"])
    assert set(certs) == {"ecdsa", "rsa"}, certs.keys()
    root = pebble.root_pem()
    for kind, (leaf, chain) in certs.items():
        assert key_algorithm(leaf) == ("ec" if kind == "ecdsa" else "rsa")
        verify_chain(tmp_path, root, leaf, chain, host)
    assert not h["ssl"].get("validation_errors"), h["ssl"]


def test_wildcard_via_txt(deploy, peers, tmp_path):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, pebble.saasedge_args())
    api = d.api(creds)
    host = uniq("wild")

    hid, records, h = issue_txt(api, dns, host, wildcard=True)

    assert {r["txt_name"] for r in records} == {f"_acme-challenge.{host}"}
    check_ssl_fields(h, [host, f"*.{host}"])
    root = pebble.root_pem()
    for leaf, chain in stored_certificates(d.data, h["ssl"]["id"]).values():
        verify_chain(tmp_path, root, leaf, chain, f"x.{host}")


def test_missing_txt_times_out_with_readable_error(deploy, peers):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, [*pebble.saasedge_args(), "--issuance.validation_timeout", "3"])
    api = d.api(creds)
    host = uniq("late")
    h = create_ssl(api, host, "txt")

    h = wait_status(api, h["id"], "validation_timed_out")

    errors = h["ssl"].get("validation_errors")
    assert errors and isinstance(errors[0].get("message"), str), h["ssl"]
    msg = errors[0]["message"]
    assert f"TXT record _acme-challenge.{host} not found" in msg, msg
    assert "timed out" in msg, msg


def test_preflight_error_shown_then_cleared(deploy, peers):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, pebble.saasedge_args())
    api = d.api(creds)
    host = uniq("pre")
    h = create_ssl(api, host, "txt")
    records = wait_records(api, h["id"])

    def explained():
        errs = api.fetch(h["id"])["ssl"].get("validation_errors") or []
        return any("not found: expected" in e.get("message", "") for e in errs)

    from conftest import wait_until
    wait_until(explained, 30, "a pre-flight validation error")
    publish_txt(dns, records)
    h, _ = drive_txt(api, dns, h["id"])
    assert not h["ssl"].get("validation_errors"), h["ssl"]
