"""Uploaded ("custom") certificates on custom hostnames (docs/api.md, "Uploading a certificate"):
a CSR made by saasedge signed by a test CA made here with the OpenSSL CLI, own keys, dual
RSA+ECDSA bundles, every rejection with its Cloudflare code and nothing stored, CSR deletion
while in use, the way back to a managed certificate, and no private key anywhere."""

import re
import socket
import subprocess
import time

import pytest

from conftest import (Deployment, TIME_RE, UUID_RE, assert_error, assert_ok, check_envelope,
                      finish_servers, uniq, wait_until)
from edge_helpers import edge_ports
from pki import Pki, key_base64

TEXTS, KEYS = [], []  # every response body of this module, every private key it made

CSR_BASE = {"country": "US", "state": "MA", "locality": "Boston",
            "organization": "City of Boston"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, pki):
    """A server whose trust store is the test root alone."""
    d = Deployment(tmp_path_factory.mktemp("custom"))
    d.start(extra_args=[f"--edge.trust_bundle={pki.dir / 'root.pem'}"])
    yield d
    finish_servers(d.servers)


class Zone:
    """One zone's API, remembering every response text (to look for leaked keys)."""

    def __init__(self, deployment):
        self.api = deployment.new_api()
        # Shared by every zone of the module, for the leak check that runs last.
        self.texts = TEXTS
        self.keys = KEYS  # key PEMs uploaded or used: none may come back

    def call(self, method, path, **kw):
        r = self.api.raw(method, f"/zones/{self.api.zone_id}{path}", **kw)
        check_envelope(r)
        self.texts.append(r.text)
        return r

    def csr(self, names, key_type="p256v1"):
        body = dict(CSR_BASE, common_name=names[0], sans=names, key_type=key_type)
        return assert_ok(self.call("POST", "/custom_csrs", json=body), 201)["result"]

    def post(self, hostname, ssl):
        return self.call("POST", "/custom_hostnames", json={"hostname": hostname, "ssl": ssl})

    def hostnames(self):
        body = assert_ok(self.call("GET", "/custom_hostnames", params={"per_page": 1000}))
        return {h["hostname"]: h for h in body["result"]}


@pytest.fixture
def zone(deployment):
    return Zone(deployment)


def check_custom_ssl(ssl, hostname, n_certs=1, csr_id=None, bundle_method="ubiquitous"):
    assert UUID_RE.match(ssl["id"]), ssl
    assert ssl["status"] in ("pending_deployment", "active"), ssl
    assert ssl["bundle_method"] == bundle_method, ssl
    assert ssl["issuer"] == "saasedgetest", ssl  # O of the issuing CA, letters only
    assert re.fullmatch(r"\d+", ssl["serial_number"]), ssl
    assert ssl["signature"] in ("ECDSAWithSHA256", "SHA256WithRSA"), ssl
    assert hostname in ssl["hosts"], ssl
    assert TIME_RE.match(ssl["uploaded_on"]) or ssl["uploaded_on"].endswith("Z"), ssl
    assert ssl["expires_on"].endswith("Z"), ssl
    assert len(ssl["certificates"]) == n_certs, ssl
    for c in ssl["certificates"]:
        assert UUID_RE.match(c["id"]) and len(c["fingerprint_sha256"]) == 64, c
    if csr_id:
        assert ssl["custom_csr_id"] == csr_id, ssl
    else:
        assert "custom_csr_id" not in ssl, ssl
    for absent in ("custom_key", "custom_certificate", "method", "type"):
        assert absent not in ssl, (absent, ssl)


@pytest.mark.parametrize("key_type", ["p256v1", "rsa2048"])
def test_upload_with_custom_csr_id(zone, pki, key_type):
    name = uniq("csrcert")
    csr = zone.csr([name, "www." + name], key_type)
    cert = pki.sign_csr(csr["csr"], [name, "www." + name]) + pki.intermediate
    r = zone.post(name, {"custom_csr_id": csr["id"], "custom_certificate": cert})
    h = assert_ok(r, 201)["result"]
    check_custom_ssl(h["ssl"], name, csr_id=csr["id"])
    # signature is the CA's algorithm (an ECDSA intermediate), whatever the leaf's key.
    assert h["ssl"]["signature"] == "ECDSAWithSHA256", h["ssl"]
    assert sorted(h["ssl"]["hosts"]) == sorted([name, "www." + name])
    again = assert_ok(zone.call("GET", f"/custom_hostnames/{h['id']}"))["result"]
    assert again["ssl"]["id"] == h["ssl"]["id"]
    assert again["ssl"]["custom_csr_id"] == csr["id"]


def test_upload_with_own_key_and_chain(zone, pki):
    name = uniq("own")
    cert, key = pki.leaf([name], "rsa")
    zone.keys.append(key)
    h = assert_ok(zone.post(name, {"custom_certificate": cert,
                                   "custom_key": key, "bundle_method": "force"}), 201)["result"]
    check_custom_ssl(h["ssl"], name, bundle_method="force")
    text = "".join(zone.texts)
    assert "PRIVATE KEY" not in text and key_base64(key) not in text


def test_dual_bundle_rsa_and_ecdsa(zone, pki):
    name = uniq("dual")
    ec, ec_key = pki.leaf([name], "ec")
    rsa, rsa_key = pki.leaf([name], "rsa")
    zone.keys += [ec_key, rsa_key]
    bundle = [{"custom_certificate": rsa, "custom_key": rsa_key},
              {"custom_certificate": ec, "custom_key": ec_key}]
    h = assert_ok(zone.post(name, {"custom_cert_bundle": bundle}), 201)["result"]
    check_custom_ssl(h["ssl"], name, n_certs=2)


def rejection_cases(pki, name, zone):
    """(label, ssl, status, code) for each invalid upload for NAME."""
    good, good_key = pki.leaf([name], "ec")
    other_cert, other_key = pki.leaf([name], "ec")
    self_cert, self_key = pki.self_signed([name])
    expired, expired_key = pki.leaf([name], "ec", days=-1)
    elsewhere, elsewhere_key = pki.leaf(["other-" + name], "ec")
    rsa1, rsa1_key = pki.leaf([name], "rsa")
    rsa2, rsa2_key = pki.leaf([name], "rsa")
    by_root, by_root_key = pki.leaf([name], "ec", issuer="root")
    stranger = Pki(pki.dir / "stranger", name="stranger")
    untrusted, untrusted_key = stranger.leaf([name], "ec")
    zone.keys += [good_key, other_key, self_key, expired_key, elsewhere_key, rsa1_key,
                  rsa2_key, by_root_key, untrusted_key]
    return [
        ("self-signed", {"custom_certificate": self_cert, "custom_key": self_key}, 400, 1441),
        ("untrusted CA", {"custom_certificate": untrusted, "custom_key": untrusted_key}, 400,
         1441),
        ("wrong key", {"custom_certificate": good, "custom_key": other_key}, 400, 1429),
        ("expired", {"custom_certificate": expired, "custom_key": expired_key}, 400, 1426),
        ("not covered", {"custom_certificate": elsewhere, "custom_key": elsewhere_key}, 400,
         1446),
        ("two leaves", {"custom_certificate": good + other_cert, "custom_key": good_key}, 400,
         1444),
        ("no leaf", {"custom_certificate": pki.intermediate + pki.root, "custom_key": good_key},
         400, 1445),
        ("garbage PEM", {"custom_certificate": "-----BEGIN CERTIFICATE-----\nnope\n"
                         "-----END CERTIFICATE-----\n", "custom_key": good_key}, 400, 1426),
        ("not PEM", {"custom_certificate": "hello", "custom_key": good_key}, 400, 1426),
        ("empty", {"custom_certificate": "  \n", "custom_key": good_key}, 400, 1427),
        ("bad key", {"custom_certificate": good, "custom_key": "-----BEGIN PRIVATE KEY-----\n"
                     "AAAA\n-----END PRIVATE KEY-----\n"}, 400, 1428),
        ("no key", {"custom_certificate": good}, 400, 1428),
        ("two RSA", {"custom_cert_bundle": [{"custom_certificate": rsa1, "custom_key": rsa1_key},
                                            {"custom_certificate": rsa2,
                                             "custom_key": rsa2_key}]}, 400, 1434),
        ("three pairs", {"custom_cert_bundle": [{"custom_certificate": good,
                                                 "custom_key": good_key}] * 3}, 400, 1434),
        ("bad csr id", {"custom_certificate": good, "custom_csr_id": "nope"}, 400, 1430),
        ("unknown csr", {"custom_certificate": good,
                         "custom_csr_id": "7b163417-1d2b-4c84-a38a-2fb7a0cd7752"}, 404, 1431),
        ("bad bundle_method", {"custom_certificate": good, "custom_key": good_key,
                               "bundle_method": "fastest"}, 400, 1449),
        # Signed by the root directly: trusted, accepted (a control for the cases above).
        ("control", {"custom_certificate": by_root, "custom_key": by_root_key}, 201, None),
    ]


def test_every_rejection_has_its_code_and_stores_nothing(zone, pki):
    name = uniq("reject")
    for label, ssl, status, code in rejection_cases(pki, name, zone):
        before = zone.hostnames()
        r = zone.post(name, ssl)
        if code is None:
            assert_ok(r, status)
            continue
        body = assert_error(r, status, code)
        if code == 1446:
            assert name in body["errors"][0]["message"], body
        assert zone.hostnames() == before, label


def test_patch_rejection_leaves_the_hostname_as_it_was(zone, pki):
    name = uniq("patchrej")
    h = assert_ok(zone.post(name, {"method": "txt", "type": "dv"}), 201)["result"]
    before = assert_ok(zone.call("GET", f"/custom_hostnames/{h['id']}"))["result"]
    self_cert, self_key = pki.self_signed([name])
    zone.keys.append(self_key)
    r = zone.call("PATCH", f"/custom_hostnames/{h['id']}",
                  json={"ssl": {"custom_certificate": self_cert, "custom_key": self_key}})
    assert_error(r, 400, 1441)
    after = assert_ok(zone.call("GET", f"/custom_hostnames/{h['id']}"))["result"]
    assert after == before


def test_patch_upload_then_back_to_managed(zone, pki):
    name = uniq("switch")
    h = assert_ok(zone.post(name, {"method": "http", "type": "dv"}), 201)["result"]
    managed_pack = h["ssl"]["id"]
    cert, key = pki.leaf([name], "ec")
    zone.keys.append(key)
    up = assert_ok(zone.call("PATCH", f"/custom_hostnames/{h['id']}",
                             json={"ssl": {"custom_certificate": cert, "custom_key": key},
                                   "custom_metadata": {"plan": "gold"}}), 202)["result"]
    check_custom_ssl(up["ssl"], name)
    assert up["ssl"]["id"] != managed_pack
    assert up["custom_metadata"] == {"plan": "gold"}
    # Settings of an uploaded certificate change without a new upload.
    s = assert_ok(zone.call("PATCH", f"/custom_hostnames/{h['id']}",
                            json={"ssl": {"settings": {"min_tls_version": "1.2"}}}),
                  202)["result"]["ssl"]
    assert s["id"] == up["ssl"]["id"] and s["settings"] == {"min_tls_version": "1.2"}, s
    back = assert_ok(zone.call("PATCH", f"/custom_hostnames/{h['id']}",
                               json={"ssl": {"method": "txt", "type": "dv"}}), 202)["result"]
    ssl = back["ssl"]
    assert (ssl["method"], ssl["type"], ssl["status"]) == ("txt", "dv", "initializing"), ssl
    assert ssl["id"] not in (up["ssl"]["id"], managed_pack)
    for absent in ("uploaded_on", "custom_csr_id", "certificates", "certificate_authority"):
        assert absent not in ssl, (absent, ssl)
    assert ssl["issuer"] == "internal", ssl  # the CA that will issue (decisions/0030)


def test_csr_delete_refused_while_in_use(zone, pki):
    name = uniq("inuse")
    csr = zone.csr([name])
    cert = pki.sign_csr(csr["csr"], [name]) + pki.intermediate
    h = assert_ok(zone.post(name, {"custom_csr_id": csr["id"], "custom_certificate": cert}),
                  201)["result"]
    assert_error(zone.call("DELETE", f"/custom_csrs/{csr['id']}"), 409, 1420)
    assert_ok(zone.call("GET", f"/custom_csrs/{csr['id']}"))
    # The key is the CSR's: a wrong certificate for it is refused, the right one reused.
    other, other_key = pki.leaf([name], "ec")
    zone.keys.append(other_key)
    r = zone.call("PATCH", f"/custom_hostnames/{h['id']}",
                  json={"ssl": {"custom_csr_id": csr["id"], "custom_certificate": other}})
    assert_error(r, 400, 1429)
    assert_ok(zone.call("DELETE", f"/custom_hostnames/{h['id']}"))
    gone = assert_ok(zone.call("DELETE", f"/custom_csrs/{csr['id']}"))
    assert gone["result"] == {"id": csr["id"]}
    assert_error(zone.call("GET", f"/custom_csrs/{csr['id']}"), 404, 1419)


def test_wildcard_hostname_needs_the_wildcard_san(zone, pki):
    base = uniq("wild")
    cert, key = pki.leaf(["*." + base], "ec")
    plain, plain_key = pki.leaf(["www." + base], "ec")
    zone.keys += [key, plain_key]
    assert_error(zone.post("*." + base, {"custom_certificate": plain, "custom_key": plain_key}),
                 400, 1446)
    h = assert_ok(zone.post("*." + base, {"custom_certificate": cert, "custom_key": key}),
                  201)["result"]
    assert h["ssl"]["hosts"] == ["*." + base]
    # RFC 6125: the wildcard covers one label.
    sub = assert_ok(zone.post("a." + base, {"custom_certificate": cert, "custom_key": key}),
                    201)["result"]
    assert sub["ssl"]["hosts"] == ["*." + base]
    assert_error(zone.post("a.b." + base, {"custom_certificate": cert, "custom_key": key}),
                 400, 1446)


# ---- the edge serves the uploaded certificate ------------------------------------------------


def served_serial(port, name, extra=()):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
                        name, *extra], input="", capture_output=True, text=True, timeout=30)
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", r.stdout,
                    re.S)
    if not pem:
        return None
    x = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem.group(0),
                       capture_output=True, text=True, timeout=30)
    return x.stdout.strip().split("=")[-1].upper()


def cert_serial(pem):
    x = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem,
                       capture_output=True, text=True, timeout=30)
    return x.stdout.strip().split("=")[-1].upper()


def test_edge_serves_the_uploaded_pair(deploy, pki):
    """An upload is deployed like an issued certificate: the edge's change feed loads it and the
    status is active within a second, before any visitor has asked for the name."""
    d = deploy()
    d.start(roles="api,edge", extra_args=[f"--edge.trust_bundle={pki.dir / 'root.pem'}"])
    port, _ = edge_ports(d.server)
    z = Zone(d)
    name = uniq("edge")
    ec, ec_key = pki.leaf([name], "ec")
    rsa, rsa_key = pki.leaf([name], "rsa")
    bundle = [{"custom_certificate": ec, "custom_key": ec_key},
              {"custom_certificate": rsa, "custom_key": rsa_key}]
    h = assert_ok(z.post(name, {"custom_cert_bundle": bundle}), 201)["result"]
    start = time.monotonic()

    def status():
        return assert_ok(z.call("GET", f"/custom_hostnames/{h['id']}"))["result"]["ssl"]["status"]

    wait_until(lambda: status() == "active", 5, "ssl.status active without a visitor")
    took = time.monotonic() - start
    assert took < 1.0, f"the upload became active after {took:.2f}s"
    # The list filters by the status the edge wrote.
    for st, n in (("active", 1), ("pending_deployment", 0)):
        body = assert_ok(z.call("GET", f"/custom_hostnames?hostname={name}&ssl_status={st}"))
        assert body["result_info"]["total_count"] == n, (st, body)
    assert served_serial(port, name) == cert_serial(ec)
    assert served_serial(port, name, ["-sigalgs", "RSA-PSS+SHA256", "-tls1_3"]) == \
        cert_serial(rsa)

    # A replaced certificate is deployed the same way.
    pack = h["ssl"]["id"]
    rsa_id = [c["id"] for c in h["ssl"]["certificates"]
              if c["serial_number"] != h["ssl"]["serial_number"]][0]
    rsa2, rsa2_key = pki.leaf([name], "rsa")
    assert_ok(z.call("PUT", f"/custom_hostnames/{h['id']}/certificate_pack/{pack}/certificates/"
                            f"{rsa_id}", json={"custom_certificate": rsa2, "custom_key": rsa2_key}))
    wait_until(lambda: status() == "active", 5, "the replacement active without a visitor")
    assert served_serial(port, name, ["-sigalgs", "RSA-PSS+SHA256", "-tls1_3"]) == \
        cert_serial(rsa2)


def test_expiry_watch_marks_pending_expiration(deploy, pki):
    """A certificate within 30 days of its end is pending_expiration once the watch has looked
    (it looks when the API starts, then every minute); nothing managed replaces it."""
    d = deploy()
    d.start(extra_args=[f"--edge.trust_bundle={pki.dir / 'root.pem'}"])
    z = Zone(d)
    name = uniq("expiring")
    cert, key = pki.leaf([name], "ec", days=10)
    h = assert_ok(z.post(name, {"custom_certificate": cert, "custom_key": key}), 201)["result"]
    far = uniq("far")
    cert2, key2 = pki.leaf([far], "ec", days=60)
    h2 = assert_ok(z.post(far, {"custom_certificate": cert2, "custom_key": key2}),
                   201)["result"]
    d.server.restart()

    def status(hid):
        return assert_ok(z.call("GET", f"/custom_hostnames/{hid}"))["result"]["ssl"]

    wait_until(lambda: status(h["id"])["status"] == "pending_expiration", 20,
               "pending_expiration after the watch's pass")
    ssl = status(h["id"])
    assert ssl["id"] == h["ssl"]["id"] and "method" not in ssl, ssl
    assert status(h2["id"])["status"] == "pending_deployment"


def test_replace_and_delete_one_certificate_of_a_pair(zone, pki):
    name = uniq("pair")
    ec, ec_key = pki.leaf([name], "ec")
    rsa, rsa_key = pki.leaf([name], "rsa")
    zone.keys += [ec_key, rsa_key]
    h = assert_ok(zone.post(name, {"custom_cert_bundle": [
        {"custom_certificate": ec, "custom_key": ec_key},
        {"custom_certificate": rsa, "custom_key": rsa_key}]}), 201)["result"]
    pack = h["ssl"]["id"]
    ids = {c["id"]: c for c in h["ssl"]["certificates"]}
    rsa_id = [i for i, c in ids.items() if c["serial_number"] != h["ssl"]["serial_number"]][0]
    ec_id = [i for i in ids if i != rsa_id][0]
    base = f"/custom_hostnames/{h['id']}/certificate_pack/{pack}/certificates"
    # RSA by RSA; ECDSA in RSA's place is refused and changes nothing.
    rsa2, rsa2_key = pki.leaf([name], "rsa")
    ec2, ec2_key = pki.leaf([name], "ec")
    zone.keys += [rsa2_key, ec2_key]
    assert_error(zone.call("PUT", f"{base}/{rsa_id}",
                           json={"custom_certificate": ec2, "custom_key": ec2_key}), 400, 1434)
    self_cert, self_key = pki.self_signed([name])
    assert_error(zone.call("PUT", f"{base}/{rsa_id}",
                           json={"custom_certificate": self_cert, "custom_key": self_key}),
                 400, 1441)
    same = assert_ok(zone.call("GET", f"/custom_hostnames/{h['id']}"))["result"]["ssl"]
    assert sorted(c["id"] for c in same["certificates"]) == sorted(ids)
    new = assert_ok(zone.call("PUT", f"{base}/{rsa_id}",
                              json={"custom_certificate": rsa2, "custom_key": rsa2_key}))
    certs = new["result"]["ssl"]["certificates"]
    assert len(certs) == 2 and ec_id in [c["id"] for c in certs], certs
    assert rsa_id not in [c["id"] for c in certs], certs
    new_rsa = [c["id"] for c in certs if c["id"] != ec_id][0]
    assert_error(zone.call("PUT", f"{base}/{rsa_id}",
                           json={"custom_certificate": rsa2, "custom_key": rsa2_key}), 404, 1436)
    # Delete one, not the last.
    gone = assert_ok(zone.call("DELETE", f"{base}/{new_rsa}"))
    assert gone["result"] == {"id": new_rsa} and gone["id"] == new_rsa
    left = assert_ok(zone.call("GET", f"/custom_hostnames/{h['id']}"))["result"]["ssl"]
    assert [c["id"] for c in left["certificates"]] == [ec_id]
    assert_error(zone.call("DELETE", f"{base}/{ec_id}"), 400, 1434)
    other = "7b163417-1d2b-4c84-a38a-2fb7a0cd7752"
    assert_error(zone.call("DELETE", f"/custom_hostnames/{h['id']}/certificate_pack/{other}"
                                     f"/certificates/{ec_id}"), 404, 1436)


def test_no_private_key_in_any_response_or_log(deployment, zone, pki):
    """Runs last in the module: every response body the module saw and the shared server's
    whole log, against every key the module made."""
    name = uniq("leak")
    cert, key = pki.leaf([name], "rsa")
    zone.keys.append(key)
    assert_ok(zone.post(name, {"custom_certificate": cert, "custom_key": key}), 201)
    zone.hostnames()
    logs = deployment.server.stderr() + deployment.server.stdout()
    for text in ("".join(zone.texts), logs):
        assert "PRIVATE KEY" not in text
        for k in zone.keys:
            assert key_base64(k)[:64] not in text
