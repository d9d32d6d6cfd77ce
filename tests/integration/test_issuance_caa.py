"""CAA pre-flight (RFC 8659) against a real ACME CA: when the customer's CAA records do not name
the CA, saasedge says which record to add instead of spending a validation, and issues once the
records allow it. The CA's identity comes from ca.<name>.caa_identities (Pebble's directory
names none)."""

import pytest

from conftest import uniq, wait_until
from issuance_helpers import create_ssl, drive_txt, publish_txt, start_issuer, wait_records
from peers import pebble_and_dns

DONE = ("pending_deployment", "active")


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    with pebble_and_dns(tmp_path_factory.mktemp("peers")) as both:
        yield both


def wait_error(api, dns, hid, needle):
    """Publishes the records shown (so that only CAA stands in the way) until a validation
    error contains NEEDLE; returns the hostname object."""
    def step():
        h = api.fetch(hid)
        publish_txt(dns, h["ssl"].get("validation_records") or [])
        errors = " ".join(e["message"] for e in h["ssl"].get("validation_errors") or [])
        return h if needle in errors else None
    return wait_until(step, 60, f"a validation error with {needle!r}", interval=0.1)


def test_caa_for_another_ca_is_explained_then_issues_once_allowed(deploy, peers):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, [*pebble.saasedge_args(), "--ca.pebble.caa_identities=pebble.test"])
    api = d.api(creds)
    parent = f"{uniq('caa')}"
    host = f"shop.{parent}"
    dns.add_caa(parent, "issue", "letsencrypt.org")  # inherited by every name below it

    h = create_ssl(api, host, "txt")
    wait_records(api, h["id"])
    h = wait_error(api, dns, h["id"], f"CAA records at {parent} do not allow pebble.test")
    assert h["ssl"]["status"] == "pending_validation"
    message = h["ssl"]["validation_errors"][0]["message"]
    assert "letsencrypt.org" in message, message
    assert f'{parent} CAA 0 issue "pebble.test"' in message, message

    dns.add_caa(parent, "issue", "pebble.test; accounturi=any")
    assert api.patch(h["id"], {"ssl": {"method": "txt", "type": "dv"}}).status_code == 202
    h, _ = drive_txt(api, dns, h["id"], DONE)
    assert h["ssl"]["status"] in DONE
    assert not h["ssl"].get("validation_errors")


def test_issuewild_governs_wildcards(deploy, peers):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, [*pebble.saasedge_args(), "--ca.pebble.caa_identities=pebble.test"])
    api = d.api(creds)
    host = uniq("caaw")
    dns.add_caa(host, "issue", "pebble.test")
    dns.add_caa(host, "issuewild", ";")  # nobody may issue wildcards

    h = create_ssl(api, host, "txt", wildcard=True)
    wait_records(api, h["id"])
    h = wait_error(api, dns, h["id"], f"do not allow pebble.test to issue for *.{host}")
    assert h["ssl"]["status"] == "pending_validation"
    assert "CAA 0 issuewild" in h["ssl"]["validation_errors"][0]["message"]


def test_no_caa_records_or_no_known_identity_does_not_block(deploy, peers):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, pebble.saasedge_args())  # no identity configured, none in Pebble's
    api = d.api(creds)
    host = uniq("caan")
    dns.add_caa(host, "issue", "letsencrypt.org")
    h = create_ssl(api, host, "txt")
    wait_records(api, h["id"])
    h, _ = drive_txt(api, dns, h["id"], DONE)
    assert h["ssl"]["status"] in DONE
