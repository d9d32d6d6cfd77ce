"""Email DCV with the internal CA: the issuer mails a one-time approval link to the five role
addresses of the hostname's registered domain (a real SMTP server: aiosmtpd), the API serves the
approval page outside /client/v4, and once someone presses "Approve" both certificates are issued
and the edge serves them (checked with openssl s_client)."""

import re
import secrets
import subprocess
import time

import pytest
import requests

from conftest import assert_error, assert_ok, uniq, wait_until
from edge_helpers import edge_ports, s_client
from issuance_helpers import (ISSUE_TIMEOUT, check_ssl_fields, create_ssl, key_algorithm,
                              stored_certificates, verify_chain, wait_records, wait_status)
from peers import ChallTestSrv, SmtpSink

ROLES = ("admin", "administrator", "hostmaster", "postmaster", "webmaster")
LINK_RE = re.compile(r"https?://[^\s/]+/dcv/email/[0-9a-f]{64}")
RSA_ONLY = ("-sigalgs", "RSA-PSS+SHA256", "-tls1_3")


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    srv = ChallTestSrv(tmp_path_factory.mktemp("dns"))
    yield srv
    srv.stop()


@pytest.fixture
def sink():
    s = SmtpSink()
    yield s
    s.stop()


# The approval page's public https address, as a TLS proxy in front of the API would serve it
# (saasedge refuses a plain http one outside --dev); the tests reach the same path on the API's
# own loopback port, as that proxy would.
PUBLIC_BASE = "https://approve.provider-edge.test"
_local = {"base": None}


def start_email(d, dns, sink, extra=()):
    """D's server with api, issuer and edge, the internal CA by default and mail to SINK (over
    STARTTLS, its certificate trusted through email.smtp_ca_file)."""
    server = d.start(roles="api,issuer,edge", extra_args=[
        "--dns.resolver", dns.resolver, "--issuance.default_ca", "internal",
        f"--email.smtp_url={sink.url}", f"--email.smtp_ca_file={sink.ca_file}",
        f"--email.approval_url_base={PUBLIC_BASE}",
        "--email.from=Certificates <certs@provider-edge.com>", *extra])
    _local["base"] = f"http://127.0.0.1:{server.port}"
    return server


def customer(label):
    """A hostname under a registered domain of its own, and that domain."""
    domain = f"cust-{secrets.token_hex(4)}.com"
    return uniq(label, domain), domain


def approval_link(message):
    """The mailed link (on PUBLIC_BASE), as the URL that reaches it on the test's server."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    links = LINK_RE.findall(body)
    assert len(set(links)) == 1, f"expected one approval link in the mail:\n{body}"
    assert links[0].startswith(PUBLIC_BASE + "/dcv/email/"), links[0]
    return _local["base"] + links[0][len(PUBLIC_BASE):]


def check_mail(sink_entry, host, domain):
    """One mail from the configured sender to the five role addresses, naming HOST."""
    mail_from, rcpts, msg = sink_entry
    expected = [f"{r}@{domain}" for r in ROLES]
    assert mail_from == "certs@provider-edge.com", mail_from
    assert sorted(rcpts) == sorted(expected), rcpts
    assert host in msg["Subject"], msg["Subject"]
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert host in body, body
    return approval_link(msg)


def serial_of(der):
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                         capture_output=True, check=True).stdout.decode()
    return out.strip().split("=")[1].upper()


def ssl_status(api, hid):
    return api.fetch(hid)["ssl"]["status"]


def assert_no_secret_anywhere(d, token):
    """The token is in no log line and in no file of the data directory (only its hash is)."""
    assert token not in d.server.stderr(), "the approval token appears in the server's log"
    assert token not in d.server.stdout(), "the approval token appears in the server's stdout"
    for f in d.data.rglob("*"):
        if f.is_file():
            assert token.encode() not in f.read_bytes(), f"the approval token is stored in {f}"


def test_email_approval_issues_both_certificates(deploy, dns, sink, tmp_path):
    d = deploy()
    creds = d.zone()
    server = start_email(d, dns, sink)
    api = d.api(creds)
    host, domain = customer("shop")
    h = create_ssl(api, host, "email")
    assert h["ssl"]["issuer"] == "internal" and "certificate_authority" not in h["ssl"]

    records = wait_records(api, h["id"])
    assert records == [{"emails": [f"{r}@{domain}" for r in ROLES]}], records
    (entry,) = sink.wait(1)
    link = check_mail(entry, host, domain)
    assert link.startswith(f"http://127.0.0.1:{server.port}/dcv/email/"), link  # mapped
    token = link.rsplit("/", 1)[1]

    # GET (what a mail scanner prefetches) shows the page and approves nothing.
    r = requests.get(link, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html"), r.headers
    assert host in r.text and 'method="post"' in r.text, r.text
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    time.sleep(1.0)  # time for a wrongly woken issuer to move on
    assert ssl_status(api, h["id"]) == "pending_validation"

    r = requests.post(link, timeout=10)
    assert r.status_code == 200, r.text
    assert "approved" in r.text and host in r.text, r.text

    h = wait_status(api, h["id"], ("pending_deployment", "active"))
    check_ssl_fields(h, [host])
    assert not h["ssl"].get("validation_errors"), h["ssl"]
    root = (d.data / "ca" / "root.pem").read_text()
    certs = stored_certificates(d.data, h["ssl"]["id"])
    assert set(certs) == {"ecdsa", "rsa"}
    for kind, (leaf, chain) in certs.items():
        assert key_algorithm(leaf) == ("ec" if kind == "ecdsa" else "rsa")
        verify_chain(tmp_path, root, leaf, chain, host)

    # The edge serves both: ECDSA by default, RSA to a client without ECDSA.
    https, _ = edge_ports(server)
    ca = ("-CAfile", str(d.data / "ca" / "root.pem"), "-verify_return_error")
    ok, serial, out = s_client(https, host, *ca)
    assert ok and serial == serial_of(certs["ecdsa"][0]), out
    ok, serial, out = s_client(https, host, *ca, *RSA_ONLY)
    assert ok and serial == serial_of(certs["rsa"][0]), out
    wait_status(api, h["id"], "active")

    # The link works once.
    for method in (requests.get, requests.post):
        r = method(link, timeout=10)
        assert r.status_code == 410 and "already used" in r.text, (r.status_code, r.text)
    # One mail per validation attempt, however often the issuer looked for the approval.
    assert len(sink.messages) == 1, [m[1] for m in sink.messages]
    d.server.stop()
    assert_no_secret_anywhere(d, token)


def test_unknown_token_is_404_and_changes_nothing(deploy, dns, sink):
    d = deploy()
    creds = d.zone()
    server = start_email(d, dns, sink)
    api = d.api(creds)
    host, domain = customer("wrong")
    h = create_ssl(api, host, "email")
    (entry,) = sink.wait(1)
    link = check_mail(entry, host, domain)
    base = f"http://127.0.0.1:{server.port}/dcv/email/"

    for bad in (secrets.token_hex(32), "not-a-token", link.rsplit("/", 1)[1].upper()):
        for method in (requests.get, requests.post):
            r = method(base + bad, timeout=10)
            assert r.status_code == 404, (bad, r.status_code, r.text)
            assert "not valid" in r.text and "<script" not in r.text, r.text
    r = requests.delete(link, timeout=10)
    assert r.status_code == 405, r.text
    # A recheck (the same method again) looks for the approval again but sends no new mail.
    assert_ok(api.patch(h["id"], {"ssl": {"method": "email", "type": "dv"}}), 202)
    time.sleep(1.0)
    assert ssl_status(api, h["id"]) == "pending_validation"
    assert len(sink.messages) == 1, [m[1] for m in sink.messages]

    # The real link still works afterwards.
    assert requests.post(link, timeout=10).status_code == 200
    wait_status(api, h["id"], ("pending_deployment", "active"))


def test_wildcard_via_email(deploy, dns, sink, tmp_path):
    d = deploy()
    creds = d.zone()
    start_email(d, dns, sink)
    api = d.api(creds)
    host, domain = customer("wild")
    h = create_ssl(api, host, "email", wildcard=True)
    (entry,) = sink.wait(1)
    link = check_mail(entry, host, domain)
    page = requests.get(link, timeout=10).text
    assert f"*.{host}" in page, page

    assert requests.post(link, timeout=10).status_code == 200
    h = wait_status(api, h["id"], ("pending_deployment", "active"))

    check_ssl_fields(h, [host, f"*.{host}"])
    root = (d.data / "ca" / "root.pem").read_text()
    for leaf, chain in stored_certificates(d.data, h["ssl"]["id"]).values():
        verify_chain(tmp_path, root, leaf, chain, f"anything.{host}")


def test_smtp_down_is_explained_and_recovers(deploy, dns):
    sink = SmtpSink(start=False)  # the port is chosen, nothing listens yet
    try:
        d = deploy()
        creds = d.zone()
        start_email(d, dns, sink)
        api = d.api(creds)
        host, domain = customer("down")
        h = create_ssl(api, host, "email")

        def explained():
            errs = api.fetch(h["id"])["ssl"].get("validation_errors") or []
            return errs if errs else None

        errs = wait_until(explained, 30, "a validation error about the mail")
        msg = errs[0]["message"]
        assert "approval mail" in msg and f"admin@{domain}" in msg, msg
        assert "not sent" in msg, msg
        assert ssl_status(api, h["id"]) == "pending_validation"

        sink.start()
        (entry,) = sink.wait(1, timeout=90)
        link = check_mail(entry, host, domain)
        wait_until(lambda: not explained(), 30, "the mail error to clear")

        assert requests.post(link, timeout=10).status_code == 200
        wait_status(api, h["id"], ("pending_deployment", "active"))
        assert_no_secret_anywhere(d, link.rsplit("/", 1)[1])
    finally:
        sink.stop()


def test_email_with_an_acme_ca_is_refused(deploy, dns):
    d = deploy()
    creds = d.zone()
    # An ACME CA as the default (never contacted: only the API runs).
    d.start(roles="api", extra_args=[
        "--ca.acme1.directory", "https://127.0.0.1:9/dir", "--issuance.default_ca", "acme1"])
    api = d.api(creds)
    host, _ = customer("acme")

    for ssl in ({"method": "email", "type": "dv"},
                {"method": "email", "type": "dv", "certificate_authority": "lets_encrypt"}):
        body = assert_error(api.post({"hostname": host, "ssl": ssl}), 400, 1432)
        assert "only available with the internal CA" in body["errors"][0]["message"], body
    assert api.count() == 0

    # PATCH: to email with an ACME CA, or to an ACME CA while on email; nothing changes.
    h = create_ssl(api, host, "email", certificate_authority="internal")
    before = api.fetch(h["id"])
    assert_error(api.patch(h["id"], {"ssl": {"certificate_authority": "lets_encrypt"}}), 400,
                 1432)
    assert_error(api.patch(h["id"], {"ssl": {"method": "email", "type": "dv",
                                             "certificate_authority": "acme1"}}), 400, 1432)
    after = api.fetch(h["id"])
    assert after["ssl"]["issuer"] == "internal" and "certificate_authority" not in after["ssl"]
    assert after["ssl"]["method"] == "email"
    assert after["ssl"]["id"] == before["ssl"]["id"]
    other, _ = customer("txt")
    t = create_ssl(api, other, "txt")
    assert_error(api.patch(t["id"], {"ssl": {"method": "email", "type": "dv"}}), 400, 1432)
    assert api.fetch(t["id"])["ssl"]["method"] == "txt"
    assert api.count() == 2


def test_mail_waits_for_a_configured_smtp_server(deploy, dns):
    """Without email.smtp_url the pack says what is missing instead of failing silently."""
    d = deploy()
    creds = d.zone()
    d.start(roles="api,issuer", extra_args=["--dns.resolver", dns.resolver])
    api = d.api(creds)
    host, _ = customer("nosmtp")
    h = create_ssl(api, host, "email", certificate_authority="internal")

    def explained():
        errs = api.fetch(h["id"])["ssl"].get("validation_errors") or []
        return errs[0]["message"] if errs else None

    msg = wait_until(explained, ISSUE_TIMEOUT, "a validation error")
    assert "email.smtp_url" in msg, msg


def test_expired_link_is_410_and_a_recheck_mails_a_new_one(deploy, dns, sink):
    d = deploy()
    creds = d.zone()
    start_email(d, dns, sink, ["--issuance.validation_timeout", "3"])
    api = d.api(creds)
    host, domain = customer("late")
    h = create_ssl(api, host, "email")
    (entry,) = sink.wait(1)
    first = check_mail(entry, host, domain)

    h = wait_status(api, h["id"], "validation_timed_out", timeout=90)
    msg = h["ssl"]["validation_errors"][0]["message"]
    assert "validation timed out" in msg and domain in msg, msg
    for method in (requests.get, requests.post):
        r = method(first, timeout=10)
        assert r.status_code == 410 and "expired" in r.text, (r.status_code, r.text)
    assert ssl_status(api, h["id"]) == "validation_timed_out"

    # Repeating the method (Cloudflare's recheck) starts over with a new mail and link.
    assert_ok(api.patch(h["id"], {"ssl": {"method": "email", "type": "dv"}}), 202)
    second = check_mail(sink.wait(2)[1], host, domain)
    assert second != first
    assert requests.post(second, timeout=10).status_code == 200
    wait_status(api, h["id"], ("pending_deployment", "active"))


def test_renewal_asks_for_a_new_approval(deploy, dns, sink):
    d = deploy()
    creds = d.zone()
    # Certificates live 60 s and renew 50-55 s before they expire: a renewal within seconds.
    start_email(d, dns, sink, ["--issuance.internal_validity", "60",
                                   "--issuance.renew_before", "50"])
    api = d.api(creds)
    host, domain = customer("renew")
    h = create_ssl(api, host, "email")
    first = check_mail(sink.wait(1)[0], host, domain)
    assert requests.post(first, timeout=10).status_code == 200
    h = wait_status(api, h["id"], ("pending_deployment", "active"))
    issued = {c["fingerprint_sha256"] for c in h["ssl"]["certificates"]}

    # The renewal mails a new link; the old certificates serve until it is used.
    second = check_mail(sink.wait(2, timeout=40)[1], host, domain)
    assert second != first
    cur = api.fetch(h["id"])
    assert cur["ssl"]["status"] in ("pending_deployment", "active"), cur["ssl"]
    assert {c["fingerprint_sha256"] for c in cur["ssl"]["certificates"]} == issued
    assert requests.post(second, timeout=10).status_code == 200

    def renewed():
        c = api.fetch(h["id"])
        fps = {x["fingerprint_sha256"] for x in c["ssl"].get("certificates", [])}
        return c if len(fps) == 2 and not fps & issued else None

    wait_until(renewed, ISSUE_TIMEOUT, "renewed certificates")


def test_recheck_while_the_mail_is_sent_mails_once(deploy, dns, sink):
    """A PATCH recheck while the approval mail is on its way takes the job's lease from the
    worker sending it, so that worker's step is lost. The worker that takes over finds this
    attempt's link and does not mail again, which would also have made the first link useless."""
    d = deploy()
    creds = d.zone()
    start_email(d, dns, sink)
    api = d.api(creds)
    sink.data_delay = 3  # the relay takes the message, then answers slowly
    host, domain = customer("slow")
    h = create_ssl(api, host, "email")
    wait_until(lambda: sink.messages, ISSUE_TIMEOUT, "the mail on its way")
    assert_ok(api.patch(h["id"], {"ssl": {"method": "email", "type": "dv"}}), 202)
    time.sleep(5)  # the slow answer, the lost write, and the worker that took over
    sink.data_delay = 0
    time.sleep(1)
    assert len(sink.messages) == 1, [m[2]["Subject"] for m in sink.messages]

    link = check_mail(sink.messages[0], host, domain)
    r = requests.post(link, timeout=10)
    assert r.status_code == 200 and "approved" in r.text, (r.status_code, r.text)
    wait_status(api, h["id"], ("pending_deployment", "active"))
    assert len(sink.messages) == 1
