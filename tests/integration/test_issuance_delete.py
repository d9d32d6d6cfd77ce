"""Deleting an issued hostname: its certificates and keys are gone at once, and the issuer then
deactivates its ACME authorizations at the CA (RFC 8555 §7.5.2). Pebble runs with
PEBBLE_AUTHZREUSE=100, so it would hand a still-valid authorization to the next order for the
name: a re-created hostname has to validate again only because the old ones were deactivated."""


import pytest

from pg import store_rows
from conftest import assert_ok, uniq, wait_until
from issuance_helpers import (ISSUE_TIMEOUT, create_ssl, drive_txt, start_issuer,
                              stored_certificates, wait_records)
from peers import pebble_and_dns


@pytest.fixture
def peers(tmp_path):
    with pebble_and_dns(tmp_path, env={"PEBBLE_AUTHZREUSE": "100"}) as both:
        yield both


def rows(data_dir, sql, *args):
    return store_rows(data_dir, sql, *args)


def test_delete_deactivates_authorizations(deploy, peers):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, pebble.saasedge_args())
    api = d.api(creds)
    host = uniq("deact")
    hid = create_ssl(api, host, "txt")["id"]
    wait_records(api, hid)
    h, first_records = drive_txt(api, dns, hid)
    pack = h["ssl"]["id"]
    assert set(stored_certificates(d.data, pack)) == {"ecdsa", "rsa"}
    key_ids = [k for (k,) in rows(d.data, "SELECT private_key_id FROM certificates WHERE pack_id = ?",
                                  pack)]
    assert len(key_ids) == 2 and all(key_ids), key_ids

    assert_ok(api.delete(hid))

    # Gone at once, before any CA exchange: certificates, keys, challenge responses.
    assert rows(d.data, "SELECT COUNT(*) FROM certificates WHERE pack_id = ?", pack) == [(0,)]
    assert rows(d.data, "SELECT COUNT(*) FROM private_keys WHERE id IN (?, ?)",
                *key_ids) == [(0,)]
    assert rows(d.data, "SELECT COUNT(*) FROM challenges WHERE pack_id = ?", pack) == [(0,)]

    def cleaned():
        log = d.server.stderr() + d.server.stdout()
        done = rows(d.data, "SELECT COUNT(*) FROM jobs WHERE subject_id = ?", pack) == [(0,)]
        return done and f"authorization deactivated\" pack={pack}" in log

    wait_until(cleaned, ISSUE_TIMEOUT, "the deleted pack's authorizations deactivated")

    # The same name again: Pebble reuses every valid authorization, so records are shown only
    # because the old authorizations are no longer valid.
    hid2 = create_ssl(api, host, "txt")["id"]
    records = wait_records(api, hid2)
    assert records and all(r["txt_name"] == f"_acme-challenge.{host}" for r in records), records
    assert not {r["txt_value"] for r in records} & {r["txt_value"] for r in first_records}
    h2, _ = drive_txt(api, dns, hid2)
    assert set(stored_certificates(d.data, h2["ssl"]["id"])) == {"ecdsa", "rsa"}


def test_restart_deactivates_the_old_attempts_authorizations(deploy, peers):
    """A PATCH that restarts a pack (here: the wildcard flag changes the names) gives up the old
    order's authorizations at the CA before the new order, then issues as usual."""
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, pebble.saasedge_args())
    api = d.api(creds)
    host = uniq("restart")
    hid = create_ssl(api, host, "txt")["id"]
    first = wait_records(api, hid)
    pack = api.fetch(hid)["ssl"]["id"]

    assert_ok(api.patch(hid, {"ssl": {"method": "txt", "type": "dv", "wildcard": True}}), 202)

    def deactivated():
        return f"authorization deactivated\" pack={pack}" in d.server.stderr()

    wait_until(deactivated, ISSUE_TIMEOUT, "the old attempt's authorizations deactivated")
    old_values = {r["txt_value"] for r in first}

    def new_records():
        recs = api.fetch(hid)["ssl"].get("validation_records") or []
        names = {r["txt_name"] for r in recs}
        return recs if names and not {r["txt_value"] for r in recs} & old_values else None

    wait_until(new_records, ISSUE_TIMEOUT, "the restarted pack's new records")
    h, _ = drive_txt(api, dns, hid)
    assert set(stored_certificates(d.data, h["ssl"]["id"])) == {"ecdsa", "rsa"}
