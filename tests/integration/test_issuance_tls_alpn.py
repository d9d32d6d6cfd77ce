"""tls-alpn-01 end to end (RFC 8737): with issuance.http_challenges=tls-alpn-01, a hostname with
method http is validated by Pebble connecting to saasedge's HTTPS listener with ALPN acme-tls/1.
Pebble's http-01 port points at a closed port, so only tls-alpn-01 can make the hostname active.
While the order is pending, `openssl s_client -alpn acme-tls/1` gets the RFC 8737 certificate;
a visitor's client is not served it."""

import hashlib
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from pg import store_rows
from conftest import free_port, uniq, wait_until
from issuance_helpers import (ISSUE_TIMEOUT, check_ssl_fields, create_ssl,
                              start_issuer_with_edge, stored_certificates, verify_chain,
                              wait_status)
from peers import edge_http_key, pebble_and_dns

ACME_IDENTIFIER = ObjectIdentifier("1.3.6.1.5.5.7.1.31")


@pytest.fixture
def peers(tmp_path):
    if not edge_http_key():
        pytest.skip("this build has no edge to answer tls-alpn-01")
    closed_http_port, https_port = free_port(), free_port()
    with pebble_and_dns(tmp_path, http_port=closed_http_port, tls_port=https_port) as both:
        yield (*both, https_port)


def s_client_pem(port, name, *extra):
    """(handshake ok, leaf PEM or None, output) of openssl s_client against the edge."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
                        name, *extra], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=15)
    out = p.stdout + p.stderr
    begin, end = out.find("-----BEGIN CERTIFICATE-----"), out.find("-----END CERTIFICATE-----")
    pem = out[begin:end + 25] if begin >= 0 and end > begin else None
    return p.returncode == 0 and pem is not None, pem, out


def stored_key_authorization(data_dir, name):
    rows = store_rows(data_dir, "SELECT response FROM challenges WHERE kind = 'tls-alpn-01' "
                      "AND token = ?", name)
    return rows[0][0] if rows else None


def test_http_method_validated_by_tls_alpn_01(deploy, peers, tmp_path):
    dns, pebble, https_port = peers
    d = deploy()
    creds = d.zone()
    start_issuer_with_edge(d, dns, [*pebble.saasedge_args(), "--issuance.http_challenges",
                                    "tls-alpn-01"], https_port=https_port)
    api = d.api(creds)
    host = uniq("alpn")
    # The name first points where no edge listens: Pebble's validations fail and the order
    # stays pending long enough to look at the challenge certificate.
    dns.add_a(host, ["127.0.0.2"])
    h = create_ssl(api, host, "http")

    def failed_once():
        got = api.fetch(h["id"])
        errors = got["ssl"].get("validation_errors") or []
        return got if got["ssl"]["status"] == "pending_validation" and errors else None

    pending = wait_until(failed_once, ISSUE_TIMEOUT, "a failed validation at 127.0.0.2",
                         interval=0.1)
    assert "could not validate" in pending["ssl"]["validation_errors"][0]["message"], pending
    assert not pending["ssl"].get("validation_records"), pending  # nothing to publish

    # The failed order is retried meanwhile, each with a new challenge: compare the certificate
    # with the key authorization stored both before and after it was fetched.
    for _ in range(50):
        key_authz = stored_key_authorization(d.data, host)
        ok, pem, out = s_client_pem(https_port, host, "-alpn", "acme-tls/1")
        if key_authz == stored_key_authorization(d.data, host):
            break
    assert ok, out
    assert "ALPN protocol: acme-tls/1" in out, out
    cert = x509.load_pem_x509_certificate(pem.encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [host]
    ext = cert.extensions.get_extension_for_oid(ACME_IDENTIFIER)
    assert ext.critical
    assert key_authz, "no tls-alpn-01 challenge stored"
    assert ext.value.value == b"\x04\x20" + hashlib.sha256(key_authz.encode()).digest()

    # A visitor (no ALPN, or acme-tls/1 among others) is not given the challenge certificate.
    for extra in ((), ("-alpn", "http/1.1"), ("-alpn", "acme-tls/1,http/1.1")):
        ok, pem, out = s_client_pem(https_port, host, *extra)
        assert not ok and pem is None, out
        assert "unrecognized name" in out, out
    # acme-tls/1 for a name without a pending challenge: no certificate either.
    ok, pem, out = s_client_pem(https_port, uniq("nochallenge"), "-alpn", "acme-tls/1")
    assert not ok and pem is None, out

    dns.clear_a(host)  # now the name points at the edge
    h = wait_status(api, h["id"], ("pending_deployment", "active"))

    check_ssl_fields(h, [host])
    root = pebble.root_pem()
    certs = stored_certificates(d.data, h["ssl"]["id"])
    assert set(certs) == {"ecdsa", "rsa"}
    for leaf, chain in certs.values():
        verify_chain(tmp_path, root, leaf, chain, host)
    log = d.server.stderr() + d.server.stdout()
    assert "tls-alpn-01 challenge served" in log, log[-3000:]
    assert "type=tls-alpn-01" in log and "type=http-01" not in log, log[-3000:]

    # A visitor now gets the issued certificate; the challenge is gone.
    ok, pem, out = s_client_pem(https_port, host, "-alpn", "http/1.1")
    assert ok, out
    assert x509.load_pem_x509_certificate(pem.encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == [host]
    ok, pem, out = s_client_pem(https_port, host, "-alpn", "acme-tls/1")
    assert not ok and pem is None, out
