"""The issuer under stress from its peers and from crashes: a CA that rejects half of all nonces,
a first CA that never answers (the pack moves to the next one), Pebble killed and restarted
mid-order, and kill -9 of saasedge while 50 hostnames are in flight (all finish after a restart,
each with exactly one certificate per key type)."""

import json
import threading
import time
from pathlib import Path

import pytest

from pg import store_rows
from conftest import assert_ok, free_port, uniq, wait_until
from issuance_helpers import (ISSUE_TIMEOUT, create_ssl, drive_txt, publish_txt, start_issuer,
                              stored_certificates, verify_chain, wait_records, wait_status)
from peers import ChallTestSrv, Pebble

DONE = ("pending_deployment", "active")
HOSTNAMES = 50  # in flight when saasedge is killed


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


def test_failing_ca_falls_back_to_the_next(deploy, dns, tmp_path):
    pebble = Pebble(tmp_path, dns, 5002, 5001)
    dead_port = free_port()  # nothing listens there: every request to this CA fails
    try:
        d = deploy()
        creds = d.zone()
        start_issuer(d, dns, ["--ca.dead.directory", f"https://127.0.0.1:{dead_port}/dir",
                              *pebble.saasedge_args(default=False),
                              "--issuance.default_ca", "dead", "--issuance.ca_attempts", "2"])
        api = d.api(creds)
        host = uniq("fallback")
        hid = create_ssl(api, host, "txt")["id"]
        messages = []

        def moved():
            h = api.fetch(hid)
            for e in h["ssl"].get("validation_errors") or []:
                if e["message"] not in messages:
                    messages.append(e["message"])
            return any("moving to certificate authority pebble" in m for m in messages)

        wait_until(moved, ISSUE_TIMEOUT, "the pack to leave the failing CA", interval=0.05)
        first = next(m for m in messages if "failure 1 of 2" in m)
        assert first.startswith("certificate authority dead (failure 1 of 2): "), messages
        assert f"127.0.0.1:{dead_port}" in first, messages

        h, _ = drive_txt(api, dns, hid)

        assert not h["ssl"].get("validation_errors"), h
        # the CA the certificates came from, not the one that failed (neither is one of
        # Cloudflare's: the certificate's issuer names it)
        assert "certificate_authority" not in h["ssl"], h["ssl"]
        assert h["ssl"]["issuer"].startswith("Pebble"), h["ssl"]
        # a PATCH of the settings alone neither restarts the pack nor forgets where it came from
        assert_ok(api.patch(hid, {"ssl": {"settings": {"min_tls_version": "1.2"}}}), 202)
        h = api.fetch(hid)
        assert h["ssl"]["issuer"].startswith("Pebble"), h["ssl"]
        assert h["ssl"]["status"] in ("pending_deployment", "active"), h["ssl"]
        certs = stored_certificates(d.data, h["ssl"]["id"])
        assert set(certs) == {"ecdsa", "rsa"}, certs
        root = pebble.root_pem()
        for leaf, chain in certs.values():
            verify_chain(tmp_path, root, leaf, chain, host)
        log = d.server.stderr() + d.server.stdout()
        assert "ca=dead failures=2 next_ca=pebble" in log, log[-3000:]
        assert f"certificates issued\" hostname={host} pack={h['ssl']['id']} ca=pebble" in log
    finally:
        pebble.stop()


def test_pebble_restarted_mid_order(deploy, dns, tmp_path):
    """Pebble loses its accounts, orders and root while a hostname waits for its TXT record:
    the issuer registers again, orders again, and the certificates chain to the new root."""
    pebble = Pebble(tmp_path, dns, 5002, 5001)
    try:
        d = deploy()
        creds = d.zone()
        start_issuer(d, dns, pebble.saasedge_args())
        api = d.api(creds)
        host = uniq("restart")
        hid = create_ssl(api, host, "txt")["id"]
        old_records = wait_records(api, hid)
        assert api.fetch(hid)["ssl"]["status"] == "pending_validation"
        old_root = pebble.root_pem()

        pebble.kill_and_restart()
        new_root = pebble.root_pem()
        assert new_root != old_root
        publish_txt(dns, old_records)  # the customer publishes what was shown before

        h, seen = drive_txt(api, dns, hid)

        assert any(r not in old_records for r in seen), "no new order after the restart"
        certs = stored_certificates(d.data, h["ssl"]["id"])
        assert set(certs) == {"ecdsa", "rsa"}, certs
        for leaf, chain in certs.values():
            verify_chain(tmp_path, new_root, leaf, chain, host)
        log = d.server.stderr() + d.server.stdout()
        assert "acme account registered again\" ca=pebble" in log, log[-3000:]
    finally:
        pebble.stop()


def certificate_rows(data_dir):
    return store_rows(data_dir, "SELECT pack_id, key_type FROM certificates")


def test_kill9_during_issuance_resumes_without_doubles(deploy, dns, tmp_path):
    pebble = Pebble(tmp_path, dns, 5002, 5001)
    try:
        d = deploy()
        creds = d.zone()
        start_issuer(d, dns, [*pebble.saasedge_args(), "--issuer.workers", "4"])
        api = d.api(creds)
        hids = [create_ssl(api, uniq(f"crash{i}"), "txt")["id"] for i in range(HOSTNAMES)]
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
                # One list call, not one GET per hostname: 50 GETs every 0.2 s would compete
                # with the issuer for the store on a small machine.
                status = {h["id"]: h.get("ssl", {}).get("status") for h in api.all()}
                return all(status.get(h) in DONE for h in hids)

            t0 = time.monotonic()
            wait_until(all_done, ISSUE_TIMEOUT * 2, f"all {HOSTNAMES} hostnames issued",
                       interval=0.2)
            print(f"{HOSTNAMES} hostnames issued {time.monotonic() - t0:.1f} s after the restart")
        finally:
            stop.set()
            t.join(5)
        rows = certificate_rows(d.data)
        packs = {api.fetch(h)["ssl"]["id"] for h in hids}
        assert sorted(rows) == sorted({(p, k) for p in packs for k in ("ecdsa", "rsa")}), rows
    finally:
        pebble.stop()


def _account_key(data_dir):
    """saasedge's ACME account (kid, private key), unsealed as the issuer does: AES-256-GCM under
    the master key, the key's id as additional data (src/lib/secretbox.h)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    [(kid, key_id)] = store_rows(data_dir, "SELECT kid, key_id FROM acme_accounts")
    [(sealed,)] = store_rows(data_dir, "SELECT sealed FROM private_keys WHERE id = ?", key_id)
    master = (Path(data_dir) / "master.key").read_bytes()
    assert sealed[0] == 1
    der = AESGCM(master).decrypt(sealed[1:13], sealed[13:], key_id.encode())
    return kid, load_der_private_key(der, None)


def _acme_post(pebble, kid, key, url, payload):
    """A JWS POST (ES256, RFC 8555 §6.2) to Pebble, sent again with a fresh nonce when Pebble
    rejects the nonce (it rejects some at random, as RFC 8555 §6.5 allows); -> (status, JSON
    body)."""
    for _ in range(20):
        status, body = _acme_post_once(pebble, kid, key, url, payload)
        if body.get("type") != "urn:ietf:params:acme:error:badNonce":
            return status, body
    return status, body


def _acme_post_once(pebble, kid, key, url, payload):
    import base64
    import json
    import ssl
    import urllib.error
    import urllib.request

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    ctx = ssl.create_default_context(cafile=str(pebble.cert))
    with urllib.request.urlopen(pebble.directory, context=ctx, timeout=10) as r:
        directory = json.load(r)
    req = urllib.request.Request(directory["newNonce"], method="HEAD")
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        nonce = r.headers["Replay-Nonce"]
    protected = b64(json.dumps({"alg": "ES256", "kid": kid, "nonce": nonce,
                                "url": url}).encode())
    body = b64(json.dumps(payload).encode()) if payload is not None else ""
    r_, s_ = decode_dss_signature(key.sign(f"{protected}.{body}".encode(),
                                           ec.ECDSA(hashes.SHA256())))
    jws = {"protected": protected, "payload": body,
           "signature": b64(r_.to_bytes(32, "big") + s_.to_bytes(32, "big"))}
    req = urllib.request.Request(url, data=json.dumps(jws).encode(), method="POST",
                                 headers={"Content-Type": "application/jose+json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_challenge_accepted_by_a_lost_step_is_not_refused_for_ever(deploy, dns, tmp_path):
    """A worker asks the CA to validate and is killed before it writes that it did: the next one
    finds the challenge not accepted in the saved state, but the CA has taken it (processing or
    valid) and refuses it again. Reproduced exactly: saasedge stopped with its records shown,
    the challenges accepted with its own account key behind its back, then started again. The
    pack must go on to its certificates, not repeat the refused request until it times out."""
    pebble = Pebble(tmp_path, dns, free_port(), free_port())
    try:
        d = deploy()
        creds = d.zone()
        start_issuer(d, dns, pebble.saasedge_args())
        api = d.api(creds)
        h = create_ssl(api, uniq("lost"), "txt")
        records = wait_records(api, h["id"])
        d.server.stop()

        [(state,)] = store_rows(d.data, "SELECT state FROM issuance_state WHERE pack_id = ?",
                                h["ssl"]["id"])
        chals = json.loads(state)["chals"]
        assert chals and not any(c["accepted"] for c in chals), state
        publish_txt(dns, records)
        kid, key = _account_key(d.data)
        for c in chals:
            status, body = _acme_post(pebble, kid, key, c["url"], {})
            assert status == 200, body

        def validated():
            return all(_acme_post(pebble, kid, key, c["authz"], None)[1]["status"] == "valid"
                       for c in chals)

        wait_until(validated, 30, "Pebble to validate the challenges")
        d.server.start()
        done = wait_status(api, h["id"], DONE)
        assert not done["ssl"].get("validation_errors"), done["ssl"]
        assert set(stored_certificates(d.data, done["ssl"]["id"])) == {"ecdsa", "rsa"}
    finally:
        pebble.stop()
