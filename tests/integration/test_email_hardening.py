"""Email DCV's approval link is a credential (issue 10, finding 10): it is mailed only over TLS
(STARTTLS required: a server that does not offer it, or a man in the middle that strips the
offer, gets no mail), it points at an https address outside --dev, and the approval page can
be served on a listener of its own so that the API need not be reachable from the Internet."""

import pytest
import requests

import test_issuance_email as email_dcv
from conftest import free_port, run_cli, wait_until
from issuance_helpers import create_ssl, wait_records, wait_status
from peers import ChallTestSrv, SmtpSink


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    srv = ChallTestSrv(tmp_path_factory.mktemp("dns"))
    yield srv
    srv.stop()


def validation_error(api, hid):
    errs = api.fetch(hid)["ssl"].get("validation_errors") or []
    return errs[0]["message"] if errs else None


def test_server_without_starttls_gets_no_mail(deploy, dns):
    """A relay that does not offer STARTTLS is what a downgrading man in the middle shows: the
    link must not go out in plain text."""
    plain = SmtpSink(tls=False)
    try:
        d = deploy()
        creds = d.zone()
        d.start(roles="api,issuer", extra_args=[
            "--dns.resolver", dns.resolver, "--issuance.default_ca", "internal",
            f"--email.smtp_url={plain.url}", f"--email.approval_url_base={email_dcv.PUBLIC_BASE}"])
        api = d.api(creds)
        host, domain = email_dcv.customer("plain")
        h = create_ssl(api, host, "email")
        msg = wait_until(lambda: validation_error(api, h["id"]), 30, "the mail error")
        assert "not sent" in msg and f"admin@{domain}" in msg, msg
        assert "TLS" in msg or "SSL" in msg, msg
        assert plain.messages == [], "the approval mail went out without TLS"
        assert api.fetch(h["id"])["ssl"]["status"] == "pending_validation"
    finally:
        plain.stop()


def start_fails(d, *args):
    """`saasedge serve ARGS` on D's data -> its stderr, once it has exited non-zero."""
    p = run_cli("serve", "--data", d.data, "--api.listen=127.0.0.1:0", "--roles=api,issuer",
                "--email.smtp_url=smtp://127.0.0.1:25", *args, check=False)
    assert p.returncode != 0, f"serve started with {args}"
    return p.stderr


def test_plain_http_approval_links_are_refused_outside_dev(deploy):
    d = deploy()
    d.zone()
    err = start_fails(d, "--email.approval_url_base=http://approve.provider-edge.test")
    assert "email.approval_url_base must be an https:// URL" in err, err
    err = start_fails(d)  # no base: the link would be http://<api.listen>
    assert "email.smtp_url needs email.approval_url_base" in err, err
    err = start_fails(d, "--email.approval_url_base=ftp://approve.provider-edge.test")
    assert "https://" in err, err


def test_approval_page_on_its_own_listener(deploy, dns):
    sink = SmtpSink()
    try:
        d = deploy()
        creds = d.zone()
        approval_port = free_port()
        server = email_dcv.start_email(
            d, dns, sink, [f"--api.approval_listen=127.0.0.1:{approval_port}"])
        email_dcv._local["base"] = f"http://127.0.0.1:{approval_port}"
        api = d.api(creds)
        host, domain = email_dcv.customer("own")
        h = create_ssl(api, host, "email")
        wait_records(api, h["id"])
        (entry,) = sink.wait(1)
        link = email_dcv.check_mail(entry, host, domain)
        path = link[len(email_dcv._local["base"]):]

        # The API's port no longer serves the page (only authenticated /client/v4).
        r = requests.get(f"http://127.0.0.1:{server.port}{path}", timeout=10)
        assert r.status_code in (400, 403, 404) and 'method="post"' not in r.text, r.text
        r = requests.post(f"http://127.0.0.1:{server.port}{path}", timeout=10)
        assert r.status_code in (400, 403, 404), r.text
        assert api.fetch(h["id"])["ssl"]["status"] == "pending_validation"
        # The approval port serves nothing but the page.
        r = requests.get(f"http://127.0.0.1:{approval_port}/client/v4/zones/{creds.zone_id}"
                         "/custom_hostnames", headers={"Authorization": f"Bearer {creds.token}"},
                         timeout=10)
        assert r.status_code == 404 and creds.zone_id not in r.text, r.text

        r = requests.get(link, timeout=10)
        assert r.status_code == 200 and host in r.text and 'method="post"' in r.text, r.text
        assert r.headers.get("Cache-Control") == "no-store", r.headers
        r = requests.post(link, data={"approve": "1"}, timeout=10)
        assert r.status_code == 200 and "approved" in r.text, r.text
        wait_status(api, h["id"], ("pending_deployment", "active"))
    finally:
        sink.stop()
