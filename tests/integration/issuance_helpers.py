"""Shared steps of the issuance tests: start the peers and saasedge with the issuer, wait for a
pack status, publish validation_records in challtestsrv, and check issued certificates against
the CA's root with the openssl CLI."""

import subprocess
import time

from pg import store_rows
from conftest import ASAN, assert_ok, free_port, wait_until

ISSUE_TIMEOUT = 120.0 if ASAN else 60.0


def start_issuer(d, dns, extra=(), roles="api,issuer"):
    """Starts D's server with the issuer role, DCV lookups at DNS (a ChallTestSrv)."""
    return d.start(roles=roles, extra_args=["--dns.resolver", dns.resolver, *extra])


def start_issuer_with_edge(d, dns, extra=(), http_port=None, https_port=None):
    """start_issuer with the edge too, its listeners on HTTP_PORT and HTTPS_PORT (free ports
    when None): the ports Pebble's http-01 and tls-alpn-01 validations connect to."""
    return start_issuer(d, dns, roles="api,issuer,edge", extra=[
        *extra, f"--edge.http_listen=127.0.0.1:{http_port or free_port()}",
        f"--edge.https_listen=127.0.0.1:{https_port or free_port()}"])


def wait_status(api, hid, statuses, timeout=ISSUE_TIMEOUT):
    """Polls GET until ssl.status is one of STATUSES; returns the hostname object. Fails early
    on a *_timed_out status that was not asked for."""
    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    last = {}

    def reached():
        h = api.fetch(hid)
        last["h"] = h
        st = h.get("ssl", {}).get("status")
        if st in statuses:
            return h
        assert "timed_out" not in (st or ""), f"ssl.status {st}: {h}"
        return None

    try:
        return wait_until(reached, timeout, f"ssl.status in {statuses}", interval=0.05)
    except AssertionError as e:
        raise AssertionError(f"{e}; last object: {last.get('h')}") from None


def wait_records(api, hid, timeout=ISSUE_TIMEOUT):
    """The validation_records once the issuer has shown them."""
    def shown():
        h = api.fetch(hid)
        recs = h.get("ssl", {}).get("validation_records")
        return recs if recs else None

    return wait_until(shown, timeout, "ssl.validation_records", interval=0.05)


def publish_txt(dns, records):
    names = set()
    for r in records:
        assert r["txt_name"].startswith("_acme-challenge."), r
        assert r["txt_value"], r
        dns.set_txt(r["txt_name"], r["txt_value"])
        names.add(r["txt_name"])
    return names


def stored_certificates(data_dir, pack_id):
    """{key_type: (leaf DER, chain DER)} of a pack, read from the store (the test checks what the
    edge would serve)."""
    rows = store_rows(data_dir, "SELECT key_type, leaf, chain FROM certificates WHERE "
                      "pack_id = ?", pack_id)
    kinds = [k for k, _, _ in rows]
    assert len(kinds) == len(set(kinds)), f"pack {pack_id} holds duplicate certificates: {kinds}"
    return {k: (bytes(leaf), bytes(chain or b"")) for k, leaf, chain in rows}


def der_to_pem(der):
    return subprocess.run(["openssl", "x509", "-inform", "DER"], input=der,
                          capture_output=True, check=True).stdout.decode()


def split_chain(chain_der):
    """DER certificates back to back -> list of PEM strings."""
    out, i = [], 0
    while i < len(chain_der):
        assert chain_der[i] == 0x30, "chain is not DER SEQUENCEs"
        n = chain_der[i + 1]
        if n & 0x80:
            k = n & 0x7F
            length = int.from_bytes(chain_der[i + 2:i + 2 + k], "big")
            total = 2 + k + length
        else:
            total = 2 + n
        out.append(der_to_pem(chain_der[i:i + total]))
        i += total
    return out


def verify_chain(tmp_path, root_pem, leaf_der, chain_der, name):
    """openssl verify of LEAF with CHAIN as untrusted intermediates against ROOT_PEM, for NAME."""
    root = tmp_path / "root.pem"
    root.write_text(root_pem)
    inter = tmp_path / "chain.pem"
    inter.write_text("".join(split_chain(chain_der)))
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(der_to_pem(leaf_der))
    args = ["openssl", "verify", "-CAfile", str(root), "-verify_hostname", name]
    if chain_der:
        args += ["-untrusted", str(inter)]
    p = subprocess.run(args + [str(leaf)], capture_output=True, text=True)
    assert p.returncode == 0, f"openssl verify failed for {name}: {p.stdout}{p.stderr}"


def key_algorithm(der):
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-text"], input=der,
                          capture_output=True, check=True).stdout.decode()
    return "ec" if "id-ecPublicKey" in text else ("rsa" if "rsaEncryption" in text else "?")


def check_ssl_fields(h, names):
    ssl = h["ssl"]
    assert ssl.get("issuer"), ssl
    assert ssl.get("serial_number", "").isdigit(), ssl
    assert ssl.get("signature") in ("ECDSAWithSHA256", "ECDSAWithSHA384", "SHA256WithRSA"), ssl
    assert ssl.get("expires_on"), ssl
    assert sorted(ssl.get("hosts", [])) == sorted(names), ssl
    certs = ssl.get("certificates", [])
    assert len(certs) == 2, ssl
    for c in certs:
        for k in ("id", "issuer", "serial_number", "signature", "expires_on", "issued_on",
                  "fingerprint_sha256"):
            assert c.get(k), f"certificates[] lacks {k}: {c}"
    assert {c["signature"] for c in certs} >= {"SHA256WithRSA"} or len(
        {c["fingerprint_sha256"] for c in certs}) == 2, ssl


def create_ssl(api, host, method="txt", **ssl):
    body = {"method": method, "type": "dv", **ssl}
    return assert_ok(api.post({"hostname": host, "ssl": body}), 201)["result"]


def elapsed_since(t0):
    return time.monotonic() - t0


def drive_txt(api, dns, hid, done=("pending_deployment", "active"), timeout=ISSUE_TIMEOUT):
    """Acts as the customer: publishes every TXT record the API shows (a second set appears when
    the CA wants a fresh validation for the RSA order) until ssl.status is in DONE. Returns
    (hostname object, every record shown)."""
    seen = []

    def step():
        h = api.fetch(hid)
        st = h.get("ssl", {}).get("status")
        assert "timed_out" not in (st or ""), f"ssl.status {st}: {h}"
        records = h["ssl"].get("validation_records") or []
        if any(r not in seen for r in records):
            # A new set replaces the old one, as a customer would edit the zone (Pebble's DNS
            # client also chokes on answers with many TXT values).
            for name in {r["txt_name"] for r in records}:
                dns.clear_txt(name)
            publish_txt(dns, records)
            seen.extend(r for r in records if r not in seen)
        return h if st in done else None

    try:
        return wait_until(step, timeout, f"ssl.status in {done}", interval=0.05), seen
    except AssertionError as e:
        raise AssertionError(f"{e}; last object: {api.fetch(hid)}") from None
