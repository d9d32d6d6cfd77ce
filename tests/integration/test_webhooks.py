"""Webhooks (issue 16, item 1; docs/decisions/0037): destinations and policies configured through
Cloudflare's notification API, the certificate events of real flows (Pebble over http-01
through the edge; the internal CA over TXT with a renewal), delivered to a receiver that checks
the secret and the HMAC signature; a receiver away, then back; a kill -9 with messages not yet
sent; a slow receiver that must not slow issuance; the history."""

import re
import time

import pytest

from conftest import (UUID_RE, Api, assert_error, assert_ok, check_envelope, free_port,
                      run_cli, uniq, wait_until)
from issuance_helpers import create_ssl, drive_txt, start_issuer_with_edge
from peers import ChallTestSrv, edge_http_key, pebble_and_dns
from webhook_receiver import Receiver

PREFIX = "ssl.custom_hostname_certificate."
ALERT_TYPE = "custom_ssl_certificate_event_type"
SECRET = "s3cret-shared-with-the-receiver"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class Account:
    """The account above a zone of D, with an account token, as the notification API wants."""

    def __init__(self, d, creds):
        zone = assert_ok(Api(d.server, "", creds.token).raw("GET", f"/zones/{creds.zone_id}"))
        self.id = zone["result"]["account"]["id"]
        self.token = run_cli("token", "create", "--account", self.id,
                             data=d.data).stdout.strip()
        self.api = Api(d.server, "", self.token)

    def call(self, method, sub="", **kw):
        r = self.api.raw(method, f"/accounts/{self.id}/alerting/v3{sub}", **kw)
        check_envelope(r)
        return r

    def destination(self, url, secret=SECRET, name="provider hooks"):
        body = {"name": name, "url": url}
        if secret is not None:
            body["secret"] = secret
        return assert_ok(self.call("POST", "/destinations/webhooks", json=body),
                         201)["result"]["id"]

    def policy(self, destinations, **fields):
        body = {"name": "custom hostname certificates", "enabled": True,
                "alert_type": ALERT_TYPE,
                "mechanisms": {"webhooks": [{"id": d} for d in destinations]}, **fields}
        return assert_ok(self.call("POST", "/policies", json=body))["result"]["id"]

    def history(self, **params):
        return assert_ok(self.call("GET", "/history", params={"per_page": 1000, **params}))


def subscribe(d, creds, receiver, **policy_fields):
    """A destination for RECEIVER and a policy sending it every custom hostname event."""
    acct = Account(d, creds)
    dest = acct.destination(receiver.url)
    acct.policy([dest], **policy_fields)
    return acct, dest


def check_message(msg, event, acct, creds, hostname):
    meta = msg["metadata"]
    assert meta["event"]["type"] == PREFIX + event, msg
    assert UUID_RE.match(meta["event"]["id"]) and TIME_RE.match(meta["event"]["created_at"])
    assert meta["event"]["id"] == msg["_event_id_header"], msg
    assert meta["account"] == {"id": acct.id} and meta["zone"] == {"id": creds.zone_id}, msg
    assert msg["data"]["hostname"] == hostname, msg


@pytest.fixture
def receiver():
    r = Receiver(SECRET)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    srv = ChallTestSrv(tmp_path_factory.mktemp("dns"))
    yield srv
    srv.stop()


def test_pebble_flow_sends_each_step(deploy, receiver, tmp_path):
    """http-01 at Pebble through the edge: the test message, then validation, issuance and
    deployment succeeded, in that order, then deletion; each signed, none twice."""
    if not edge_http_key():
        pytest.skip("this build has no edge to answer http-01")
    http_port, https_port = free_port(), free_port()
    with pebble_and_dns(tmp_path, http_port=http_port, tls_port=https_port) as (dns, pebble):
        d = deploy()
        creds = d.zone()
        start_issuer_with_edge(d, dns, pebble.saasedge_args(), http_port, https_port)
        acct, dest = subscribe(d, creds, receiver)
        wait_until(lambda: receiver.messages, 30, "the destination's test message")
        assert receiver.messages[0]["text"].startswith("Hello World!"), receiver.messages
        api = d.api(creds)
        host = uniq("hook")
        h = api.create(host, ssl={"method": "http", "type": "dv"},
                       custom_metadata={"customer": "42"})

        msg = receiver.wait_for("deployment.succeeded", h["id"])
        assert msg["data"]["ssl"]["status"] == "active", msg
        # Validation may succeed twice: Pebble does not always reuse the ECDSA order's
        # authorization for the RSA order, so the pack is validated again.
        events = [e[len(PREFIX):] for e in receiver.events(h["id"])]
        assert events.index("validation.succeeded") < events.index("issuance.succeeded") < \
            events.index("deployment.succeeded"), events
        assert events.count("issuance.succeeded") == 1, events
        assert events.count("deployment.succeeded") == 1, events
        for m in receiver.messages[1:]:
            check_message(m, m["metadata"]["event"]["type"][len(PREFIX):], acct, creds, host)
            assert m["data"]["custom_metadata"] == {"customer": "42"}, m
            assert m["data"]["ssl"]["method"] == "http", m
            assert "private_key" not in str(m), m
        issued = receiver.wait_for("issuance.succeeded", h["id"])
        assert issued["data"]["ssl"]["status"] == "pending_deployment", issued

        assert_ok(api.delete(h["id"]))
        gone = receiver.wait_for("deletion.succeeded", h["id"])
        check_message(gone, "deletion.succeeded", acct, creds, host)
        assert receiver.rejected == [], receiver.rejected
        ids = [m["_event_id_header"] for m in receiver.messages]
        assert len(ids) == len(set(ids)), ids
        # The receiver has them all; the history says so once each outcome is recorded.
        entries = wait_until(lambda: (lambda es: es if {e["delivery"]["status"] for e in es}
                                      == {"delivered"} else None)(acct.history()["result"]),
                             10, "every delivery recorded as delivered")
        assert len(entries) == len(receiver.messages), entries
        assert all(e["mechanism"] == dest and e["mechanism_type"] == "webhook"
                   for e in entries), entries


def test_txt_failure_then_success_and_renewal(deploy, dns, receiver):
    """The internal CA over TXT: validation.failed while the record is missing, then
    validation.succeeded once it is there; a renewal (certificates living 60 s, renewed 50 s
    before) sends renewal.succeeded, and the new certificate deployment.succeeded again."""
    d = deploy()
    creds = d.zone()
    start_issuer_with_edge(d, dns, ["--issuance.internal_validity", "60",
                                    "--issuance.renew_before", "50"])
    acct, _ = subscribe(d, creds, receiver)
    api = d.api(creds)
    host = uniq("hooktxt")
    h = create_ssl(api, host, "txt", certificate_authority="internal")
    failed = receiver.wait_for("validation.failed", h["id"])
    assert failed["data"]["ssl"]["status"] == "pending_validation", failed
    assert failed["data"]["ssl"].get("validation_errors"), failed

    drive_txt(api, dns, h["id"], done=("active",))
    receiver.wait_for("deployment.succeeded", h["id"])
    renewed = receiver.wait_for("renewal.succeeded", h["id"], timeout=90)
    check_message(renewed, "renewal.succeeded", acct, creds, host)
    wait_until(lambda: receiver.events(h["id"]).count(PREFIX + "deployment.succeeded") >= 2,
               60, "the renewed certificate's deployment")
    events = receiver.events(h["id"])
    assert events.index(PREFIX + "validation.failed") < \
        events.index(PREFIX + "validation.succeeded") < \
        events.index(PREFIX + "issuance.succeeded") < \
        events.index(PREFIX + "renewal.succeeded"), events


def start_internal(d, dns, extra=()):
    """The api, issuer and edge roles (deployment is the edge's), the internal CA."""
    return start_issuer_with_edge(d, dns, extra)


def make_hostnames(d, dns, api, n):
    """N hostnames over TXT at the internal CA, driven to active one after another."""
    ids = []
    for _ in range(n):
        h = create_ssl(api, uniq("hookmany"), "txt", certificate_authority="internal")
        drive_txt(api, dns, h["id"], done=("active",))
        ids.append(h["id"])
    return ids


def hostnames_while_away(deploy, dns, receiver, n=2):
    """A node whose account sends every event to RECEIVER, which goes away once it has the test
    message; N hostnames are then made active. -> (deployment, Account, hostname ids)"""
    d = deploy()
    creds = d.zone()
    start_internal(d, dns)
    acct, _ = subscribe(d, creds, receiver)
    wait_until(lambda: receiver.messages, 30, "the test message")
    receiver.down()
    return d, acct, make_hostnames(d, dns, d.api(creds), n)


def check_in_order(receiver, ids):
    for hid in ids:
        events = [e[len(PREFIX):] for e in receiver.events(hid)]
        assert events.index("validation.succeeded") < events.index("issuance.succeeded") < \
            events.index("deployment.succeeded"), (hid, events)


def test_receiver_away_then_back(deploy, dns, receiver):
    """While the receiver's port is closed, then while it answers 503, messages wait; once it
    is back every one arrives, in order for each hostname, none twice, and the history shows
    the failed attempts."""
    d, acct, ids = hostnames_while_away(deploy, dns, receiver)
    time.sleep(1.5)
    receiver.failing = True
    posts = receiver.posts
    receiver.up()
    wait_until(lambda: receiver.posts > posts, 30, "a retry while the receiver fails")
    receiver.failing = False
    for hid in ids:
        receiver.wait_for("deployment.succeeded", hid, timeout=60)
    check_in_order(receiver, ids)
    retried = [e for e in acct.history()["result"] if e["delivery"]["attempts"] > 1]
    assert retried, acct.history()
    assert all(e["delivery"]["status"] == "delivered" for e in retried), retried
    assert any("503" in e["delivery"]["last_error"] or
               "onnect" in e["delivery"]["last_error"] for e in retried), retried


def test_kill_9_loses_no_message(deploy, dns, receiver):
    """Messages made while the receiver is away survive a kill -9 of the only node: after the
    restart, every one is delivered."""
    d, acct, ids = hostnames_while_away(deploy, dns, receiver)
    # Validation, issuance and deployment of each, turned into deliveries within moments.
    wait_until(lambda: len([e for e in acct.history()["result"]
                            if e["delivery"]["status"] == "pending"]) >= 6,
               10, "six messages waiting")
    d.server.kill9()
    receiver.up()
    d.server.start()
    for hid in ids:
        receiver.wait_for("deployment.succeeded", hid, timeout=60)
    check_in_order(receiver, ids)


def test_slow_receiver_does_not_slow_issuance(deploy, dns, receiver):
    """A receiver taking longer than webhooks.timeout to answer: issuance goes on at its pace
    (POST to active within the time it takes with no webhooks at all), and the API answers."""
    d = deploy()
    creds = d.zone()
    start_internal(d, dns, ["--webhooks.timeout", "3"])
    api = d.api(creds)
    t0 = time.monotonic()
    make_hostnames(d, dns, api, 1)
    plain = time.monotonic() - t0
    subscribe(d, creds, receiver)
    receiver.delay = 6.0
    t0 = time.monotonic()
    ids = make_hostnames(d, dns, api, 2)
    slowed = time.monotonic() - t0
    assert slowed < 2 * plain + 10, (plain, slowed)
    t0 = time.monotonic()
    assert_ok(api.list())
    assert time.monotonic() - t0 < 1.0
    receiver.delay = 0.0
    for hid in ids:
        receiver.wait_for("deployment.succeeded", hid, timeout=90)


def test_api_refuses_bad_input_and_changes_nothing(deploy, receiver):
    d = deploy()
    creds = d.zone()
    d.start(roles="api")
    acct = Account(d, creds)
    bad_destinations = [
        {"url": receiver.url},
        {"name": "x", "url": "ftp://example.net/hook"},
        {"name": "x", "url": "not a url"},
        {"name": "", "url": receiver.url},
        {"name": "x", "url": receiver.url, "secret": 7},
    ]
    for body in bad_destinations:
        assert_error(acct.call("POST", "/destinations/webhooks", json=body), 400, 17000)
    assert_ok(acct.call("GET", "/destinations/webhooks"))["result"] == []

    dest = acct.destination(receiver.url, name="hooks")
    got = assert_ok(acct.call("GET", f"/destinations/webhooks/{dest}"))["result"]
    assert got["id"] == dest and got["name"] == "hooks" and got["url"] == receiver.url, got
    assert got["type"] == "generic" and TIME_RE.match(got["created_at"]), got
    assert "secret" not in got and SECRET not in str(got), got

    good = {"name": "p", "enabled": True, "alert_type": ALERT_TYPE,
            "mechanisms": {"webhooks": [{"id": dest}]}}
    bad_policies = [
        {**good, "alert_type": "universal_ssl_event_type"},
        {**good, "mechanisms": {"webhooks": [{"id": "0d89c70d-ad9f-4843-b99f-6cc0252067e9"}]}},
        {**good, "mechanisms": {"email": [{"id": "a@b.c"}]}},
        {**good, "mechanisms": {"webhooks": []}},
        {k: v for k, v in good.items() if k != "enabled"},
        {**good, "filters": {"zones": "not a list"}},
        {**good, "filters": {"pool_id": ["x"]}},
    ]
    for body in bad_policies:
        assert_error(acct.call("POST", "/policies", json=body), 400, 17000)
    assert assert_ok(acct.call("GET", "/policies"))["result"] == []

    # Empty mechanisms and filters of other kinds (as clients that send every field do) pass.
    pid = acct.policy([dest], filters={"zones": [creds.zone_id], "pool_id": []})
    assert_ok(acct.call("PUT", f"/policies/{pid}", json={
        **good, "mechanisms": {"webhooks": [{"id": dest}], "email": [], "pagerduty": []}}))
    assert_ok(acct.call("PUT", f"/policies/{pid}", json={**good, "filters": {
        "zones": [creds.zone_id]}}))
    p = assert_ok(acct.call("GET", f"/policies/{pid}"))["result"]
    assert p["alert_type"] == ALERT_TYPE and p["enabled"] is True, p
    assert p["mechanisms"] == {"webhooks": [{"id": dest}]}, p
    assert p["filters"] == {"zones": [creds.zone_id]}, p
    assert_ok(acct.call("PUT", f"/policies/{pid}", json={**good, "enabled": False}))
    assert assert_ok(acct.call("GET", f"/policies/{pid}"))["result"]["enabled"] is False

    missing = "0d89c70d-ad9f-4843-b99f-6cc0252067e9"
    assert_error(acct.call("GET", f"/destinations/webhooks/{missing}"), 404, 17002)
    assert_error(acct.call("GET", f"/policies/{missing}"), 404, 17003)
    assert_ok(acct.call("DELETE", f"/policies/{pid}"))
    assert_ok(acct.call("DELETE", f"/destinations/webhooks/{dest}"))
    assert_error(acct.call("DELETE", f"/destinations/webhooks/{dest}"), 404, 17002)

    # A zone's token does not reach its account's notifications.
    zone_api = Api(d.server, "", creds.token)
    r = zone_api.raw("GET", f"/accounts/{acct.id}/alerting/v3/policies")
    assert_error(r, 403, 10000)
