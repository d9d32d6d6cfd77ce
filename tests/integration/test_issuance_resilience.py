"""The issuer under stress from its peers and from crashes: a CA that rejects half of all nonces,
and kill -9 of saasedge while 20 hostnames are in flight (all finish after a restart, each with
exactly one certificate per key type)."""

import sqlite3
import threading

import pytest

from conftest import uniq, wait_until
from issuance_helpers import (ISSUE_TIMEOUT, create_ssl, drive_txt, publish_txt, start_issuer,
                              stored_certificates)
from peers import ChallTestSrv, Pebble

DONE = ("pending_deployment", "active")


@pytest.fixture
def dns(tmp_path):
    srv = ChallTestSrv(tmp_path)
    yield srv
    srv.stop()


def test_badnonce_storm_still_issues(deploy, dns, tmp_path):
    pebble = Pebble(tmp_path, dns, 5002, 5001, env={"PEBBLE_WFE_NONCEREJECT": "50"})
    try:
        d = deploy()
        creds = d.zone()
        start_issuer(d, dns, pebble.saasedge_args())
        api = d.api(creds)
        hids = [create_ssl(api, uniq("nonce"), "txt")["id"] for _ in range(3)]
        for hid in hids:
            h, _ = drive_txt(api, dns, hid)
            assert set(stored_certificates(d.data, h["ssl"]["id"])) == {"ecdsa", "rsa"}
    finally:
        pebble.stop()


def certificate_rows(data_dir):
    db = sqlite3.connect(f"file:{data_dir}/saasedge.db?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT pack_id, key_type FROM certificates").fetchall()
    finally:
        db.close()


def test_kill9_during_issuance_resumes_without_doubles(deploy, dns, tmp_path):
    pebble = Pebble(tmp_path, dns, 5002, 5001)
    try:
        d = deploy()
        creds = d.zone()
        start_issuer(d, dns, [*pebble.saasedge_args(), "--issuer.workers", "4"])
        api = d.api(creds)
        hids = [create_ssl(api, uniq(f"crash{i}"), "txt")["id"] for i in range(20)]
        stop = threading.Event()
        published = set()

        def customer():
            # Publishes whatever records the API shows, across the restart.
            while not stop.is_set():
                try:
                    for h in api.all():
                        for r in h.get("ssl", {}).get("validation_records") or []:
                            key = (r["txt_name"], r["txt_value"])
                            if key not in published:
                                publish_txt(dns, [r])
                                published.add(key)
                except Exception:
                    pass  # the server is down for a moment
                stop.wait(0.05)

        t = threading.Thread(target=customer, daemon=True)
        t.start()
        try:
            # Kill once some packs are mid-way (records shown or certificates stored).
            wait_until(lambda: len(published) >= 5, ISSUE_TIMEOUT, "issuance under way")
            d.server.kill9()
            d.server.start()

            def all_done():
                return all(api.fetch(h)["ssl"]["status"] in DONE for h in hids)

            wait_until(all_done, ISSUE_TIMEOUT * 2, "all 20 hostnames issued", interval=0.2)
        finally:
            stop.set()
            t.join(5)
        rows = certificate_rows(d.data)
        packs = {api.fetch(h)["ssl"]["id"] for h in hids}
        assert sorted(rows) == sorted({(p, k) for p in packs for k in ("ecdsa", "rsa")}), rows
    finally:
        pebble.stop()
