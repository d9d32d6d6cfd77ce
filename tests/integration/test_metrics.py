"""Prometheus metrics (issue 16, item 2; docs/decisions/0038): a server with every role and
--metrics.listen, scraped and parsed with Prometheus's own Python parser (Debian's
python3-prometheus-client) around a real flow: a TXT validation through a real DNS server
(pebble-challtestsrv) by the internal CA, handshakes of ECDSA and RSA clients and of an unknown
name, requests proxied to a real origin, API calls, a webhook delivered to a receiver. The
values are checked as deltas between scrapes of the server's own counters."""

import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port, port_answers, uniq, wait_until
from edge_helpers import EchoOrigin, curl, s_client, split_status
from issuance_helpers import ISSUE_TIMEOUT, publish_txt, start_issuer_with_edge, wait_records, \
    wait_status
from peers import ChallTestSrv
from test_webhooks import Account
from webhook_receiver import Receiver

RSA_12 = ("-sigalgs", "RSA+SHA256", "-tls1_2")
DAY = 86400


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    srv = ChallTestSrv(tmp_path_factory.mktemp("dns"))
    yield srv
    srv.stop()


def scrape(port):
    """GET /metrics -> ({(name, labels as a sorted tuple): value}, the text)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values, text


def value(values, name, **labels):
    return values[(name, tuple(sorted(labels.items())))]


def delta(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_after_a_flow(deploy, dns, tmp_path):
    d = deploy()
    creds = d.zone()
    port, https = free_port(), free_port()
    # internal certificates of 20 days: both count as ending within 30 days and not within 7;
    # renewal starts a day before the end, so none starts during the test
    start_issuer_with_edge(d, dns, extra=[
        f"--metrics.listen=127.0.0.1:{port}", "--issuer.key_pool=2",
        f"--issuance.internal_validity={20 * DAY}", f"--issuance.renew_before={DAY}"],
        https_port=https)
    wait_until(lambda: port_answers(https), 20, "the edge")
    api = d.api(creds)
    origin = EchoOrigin()
    receiver = Receiver("metrics-secret")
    try:
        start, text = scrape(port)
        for family in ("saasedge_edge_handshakes_total", "saasedge_edge_cert_cache_bytes",
                       "saasedge_issuer_orders_total", "saasedge_api_requests_total",
                       "saasedge_webhook_backlog", "saasedge_store_seconds_bucket"):
            assert family in text, family
        assert value(start, "saasedge_issuer_orders_total", ca="internal",
                     outcome="issued") == 0

        # the customer has not published the record yet: the issuer's own check fails
        name = uniq("metrics")
        hid = api.create(name, custom_origin_server=f"127.0.0.1:{origin.port}",
                         ssl={"method": "txt", "type": "dv",
                              "certificate_authority": "internal"})["id"]
        records = wait_records(api, hid)
        wait_until(lambda: value(scrape(port)[0], "saasedge_issuer_validation_failures_total",
                                 method="txt", reason="check") >= 1, ISSUE_TIMEOUT,
                   "a failed TXT check counted")
        publish_txt(dns, records)
        wait_status(api, hid, "active")
        active, _ = scrape(port)
        assert delta(start, active, "saasedge_issuer_orders_total", ca="internal",
                     outcome="issued") == 1
        assert delta(start, active, "saasedge_issuer_time_to_active_seconds_count") == 1
        assert 0 < delta(start, active, "saasedge_issuer_time_to_active_seconds_sum") < \
            ISSUE_TIMEOUT + 10

        # visitors: two ECDSA handshakes, one RSA, one unknown name; a request proxied to the
        # origin (2xx) and one whose Host is not the name (421, answered by the edge)
        assert s_client(https, name)[0] and s_client(https, name, *RSA_12)[0]
        assert not s_client(https, uniq("unknown"))[0]
        code, _ = split_status(curl(https, name, "/page"))
        assert code == 200
        code, _ = split_status(curl(https, name, "/", "-H", "Host: other.example"))
        assert code == 421
        # API calls: three reads of the hostname and one of an id that does not exist
        for _ in range(3):
            api.fetch(hid)
        assert api.get("00000000-0000-4000-8000-000000000000").status_code == 404
        after, text = scrape(port)

        assert delta(active, after, "saasedge_edge_handshakes_total", result="ok",
                     certificate="ecdsa") == 3  # s_client, then curl twice
        assert delta(active, after, "saasedge_edge_handshakes_total", result="ok",
                     certificate="rsa") == 1
        assert delta(active, after, "saasedge_edge_handshakes_total", result="unknown_name",
                     certificate="none") == 1
        # every named handshake looked its name up once: a hit, or a miss read from the store
        looked = sum(delta(active, after, "saasedge_edge_cert_cache_lookups_total", result=r)
                     for r in ("hit", "miss"))
        assert looked == 5, looked
        # curl offers h2, which the edge serves by default
        assert delta(active, after, "saasedge_edge_requests_total", protocol="h2",
                     code="2xx") == 1
        assert delta(active, after, "saasedge_edge_requests_total", protocol="h2",
                     code="4xx") == 1
        assert delta(active, after, "saasedge_edge_requests_total", protocol="http/1.1",
                     code="2xx") == 0
        assert delta(active, after, "saasedge_edge_origin_seconds_count") == 1
        assert value(after, "saasedge_edge_cert_cache_entries") >= 1
        assert value(after, "saasedge_edge_cert_cache_bytes") > 0
        assert delta(active, after, "saasedge_api_requests_total", route="custom_hostname",
                     code="2xx") == 3
        assert delta(active, after, "saasedge_api_requests_total", route="custom_hostname",
                     code="4xx") == 1
        assert delta(active, after, "saasedge_api_request_seconds_count",
                     route="custom_hostname") == 4
        assert value(after, "saasedge_store_seconds_count", operation="query") > 0
        assert value(after, "saasedge_store_seconds_count", operation="commit") > 0
        # cardinality: no series names a hostname, an id or a token
        assert name not in text and hid not in text and creds.token not in text

        # the gauges read from the store (refreshed every few seconds)
        seen = {}

        def gauges():
            v, _ = scrape(port)
            want = {("saasedge_certificates_expiring", (("within", "30d"),)): 2,
                    ("saasedge_certificates_expiring", (("within", "7d"),)): 0,
                    ("saasedge_issuer_key_pool_keys", ()): 2,
                    ("saasedge_issuer_queue_jobs", ()): 0,
                    ("saasedge_issuer_queue_oldest_seconds", ()): 0,
                    ("saasedge_issuer_ca_orders_left", (("ca", "internal"),)): -1}
            seen.update({k: v[k] for k in want})
            return v if all(v[k] == n for k, n in want.items()) else None

        try:
            wait_until(gauges, 60, "the store's gauges", interval=0.5)
        except AssertionError as e:
            raise AssertionError(f"{e}: last seen {seen}") from None

        # a webhook destination: its test message is delivered, and the backlog empties
        acct = Account(d, creds)
        acct.destination(receiver.url, secret="metrics-secret")
        wait_until(lambda: value(scrape(port)[0], "saasedge_webhook_deliveries_total",
                                 outcome="delivered") == 1, 30, "the test message delivered")
        wait_until(lambda: value(scrape(port)[0], "saasedge_webhook_backlog") == 0, 30,
                   "an empty backlog")
    finally:
        receiver.stop()
        origin.close()


def test_bad_metrics_address_refused(deploy):
    """metrics.listen takes a numeric address, as the other listeners do."""
    d = deploy()
    d.start(roles="api")
    p = subprocess.run([*d.server.runs[-1]["cmd"], "--metrics.listen=localhost:9100",
                        "--check-config"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "metrics.listen" in p.stderr, p.stderr
