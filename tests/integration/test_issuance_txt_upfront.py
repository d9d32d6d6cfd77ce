"""TXT values up front (decisions/0024): every TXT value a hostname's two certificates need
(ECDSA and RSA orders) is shown at its first pending_validation, and the customer who sets
those records once is never asked for another. Pebble runs with PEBBLE_AUTHZREUSE=0: it never
hands the RSA order the authorization the ECDSA order validated, the worst case a CA allows.
(Almost never: Pebble 2.4.0 still reuses a valid authorization when rand.Intn(100) draws 0,
"> 0" being its test, so 1 order in 100 that could reuse one does; a first issuance has none to
reuse, a renewal has the first issuance's.)

The wildcard case is a "*.name" hostname: two values at _acme-challenge.name. A plain name with
ssl.wildcard true needs four there (the name and "*.name", two orders), and pebble-challtestsrv
answers four values in a 578-byte UDP message without setting TC, which Pebble's 512-byte DNS
client cannot read ("dns: overflowing header size"): a limit of the test peers, not of real
resolvers, which retry over TCP."""


import pytest

from pg import store_rows
from conftest import uniq, wait_until
from issuance_helpers import (ISSUE_TIMEOUT, create_ssl, key_algorithm, publish_txt,
                              start_issuer, stored_certificates, wait_status)
from order_reuse import OrderReusingCa
from peers import pebble_and_dns

HOSTS = 20


@pytest.fixture
def peers(tmp_path):
    with pebble_and_dns(tmp_path, env={"PEBBLE_AUTHZREUSE": "0"}) as both:
        yield both


def first_records(api, hid):
    h = wait_status(api, hid, "pending_validation")
    records = h["ssl"].get("validation_records")
    assert records, h["ssl"]
    return records


def test_every_txt_value_shown_once_and_set_once(deploy, peers):
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, pebble.saasedge_args())
    api = d.api(creds)
    hosts = {}
    for i in range(HOSTS):
        host = uniq(f"up{i}")
        hosts[create_ssl(api, host, "txt")["id"]] = host
    wild = "*." + uniq("upw")
    hosts[create_ssl(api, wild, "txt")["id"]] = wild

    shown = {}
    for hid, host in hosts.items():
        records = first_records(api, hid)
        base = host[2:] if host.startswith("*.") else host
        assert {r["txt_name"] for r in records} == {f"_acme-challenge.{base}"}, records
        # two orders, no reuse: one value per order
        assert len({r["txt_value"] for r in records}) == 2, records
        publish_txt(dns, records)  # the customer's one change
        shown[hid] = records

    pending = set(hosts)

    def all_issued():
        for hid in list(pending):
            h = api.fetch(hid)
            st = h["ssl"]["status"]
            assert "timed_out" not in st, h["ssl"]
            # never a new record, never back to validation once issuance has started
            records = h["ssl"].get("validation_records")
            assert not records or records == shown[hid], (records, shown[hid])
            if st in ("pending_deployment", "active"):
                pending.discard(hid)
        return not pending

    wait_until(all_issued, ISSUE_TIMEOUT * 2, f"{len(hosts)} hostnames issued", interval=0.2)
    for hid in hosts:
        pack = api.fetch(hid)["ssl"]["id"]
        assert set(stored_certificates(d.data, pack)) == {"ecdsa", "rsa"}, hosts[hid]


def events(data_dir, kind, subject):
    return store_rows(data_dir, "SELECT new_status FROM events WHERE kind = ? AND "
                      "subject_id = ? ORDER BY seq", kind, subject)


def test_renewal_shows_its_values_early_while_the_pack_stays_live(deploy, peers):
    """A renewal (here at once: renew_before longer than Pebble's certificates live) needs new
    TXT values from a CA that reuses nothing. They are shown as soon as the renewal's orders
    exist, with an "ssl.validation_records" event, while the pack keeps serving; the customer
    publishes them once and the certificates are replaced."""
    dns, pebble = peers
    d = deploy()
    creds = d.zone()
    start_issuer(d, dns, [*pebble.saasedge_args(), "--issuance.renew_before", "315360000"])
    api = d.api(creds)
    host = uniq("renewtxt")
    hid = create_ssl(api, host, "txt")["id"]
    first = first_records(api, hid)
    publish_txt(dns, first)
    h = wait_status(api, hid, ("pending_deployment", "active"))
    issued = {c["fingerprint_sha256"] for c in h["ssl"]["certificates"]}

    def renewal_records():
        cur = api.fetch(hid)
        assert cur["ssl"]["status"] in ("pending_deployment", "active"), cur["ssl"]
        recs = cur["ssl"].get("validation_records") or []
        return recs if recs and recs != first else None

    renewal = wait_until(renewal_records, ISSUE_TIMEOUT, "the renewal's TXT values")
    # One value per order, or one in all in the rare run where Pebble handed one of them the
    # first issuance's valid authorization (see above): the customer is shown what the CA asks.
    assert len({r["txt_value"] for r in renewal}) in (1, 2), renewal
    assert len(renewal) == len({r["txt_value"] for r in renewal}), renewal
    assert not {r["txt_value"] for r in renewal} & {r["txt_value"] for r in first}
    shown = events(d.data, "ssl.validation_records", hid)
    assert len(shown) >= 2, shown  # the first issuance's records, then the renewal's
    assert "renewal records shown" in d.server.stderr()

    dns.clear_txt(f"_acme-challenge.{host}")
    publish_txt(dns, renewal)

    def renewed():
        cur = api.fetch(hid)
        fps = {c["fingerprint_sha256"] for c in cur["ssl"].get("certificates", [])}
        return cur if len(fps) == 2 and not fps & issued else None

    wait_until(renewed, ISSUE_TIMEOUT, "renewed certificates", interval=0.1)


def test_a_ca_that_answers_the_second_order_with_the_first_still_issues_both(deploy, tmp_path):
    """Let's Encrypt answers a second newOrder for the same names with the account's first order
    while that one is pending or ready (order_reuse.py). The two orders made up front are then
    one: a single TXT value is shown, and the RSA order is made once the ECDSA certificate is
    in, when the CA has a new order to give and reuses the valid authorization (as Boulder
    does; PEBBLE_AUTHZREUSE=100 here). The pack must end with an ECDSA and an RSA certificate,
    each for its own key, the customer having published once."""
    with pebble_and_dns(tmp_path, env={"PEBBLE_AUTHZREUSE": "100"}) as (dns, pebble), \
            OrderReusingCa(pebble) as ca:
        d = deploy()
        creds = d.zone()
        start_issuer(d, dns, ca.saasedge_args())
        api = d.api(creds)
        hid = create_ssl(api, uniq("reused"), "txt")["id"]
        records = first_records(api, hid)
        assert len({r["txt_value"] for r in records}) == 1, records
        publish_txt(dns, records)
        h = wait_status(api, hid, ("pending_deployment", "active"))
        assert h["ssl"].get("validation_records") in (None, [], records), h["ssl"]
        certs = stored_certificates(d.data, h["ssl"]["id"])
        assert {k: key_algorithm(leaf) for k, (leaf, _) in certs.items()} == \
            {"ecdsa": "ec", "rsa": "rsa"}
        assert ca.reused >= 1  # the CA did answer with the first order
