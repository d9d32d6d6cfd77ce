"""The dashboard in a real browser: Debian's Chromium, headless, driven by puppeteer-core
(tests/browser/dashboard.mjs, installed by `make deps` with `npm ci --prefix tests/browser`)
against a server running the API, the issuer and the edge, with Pebble as the CA and
pebble-challtestsrv as the customers' DNS. Each test runs one scenario of the script; what needs
the peers (a TXT record at the customer's DNS, a CSR signed by the customer's CA) the script
asks of this file. Screenshots of every page at 1280 and 390 px land in build/screenshots."""

import gzip
import json
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import ASAN, REPO, free_port, wait_until
from edge_helpers import edge_verifies, s_client
from issuance_helpers import ISSUE_TIMEOUT, start_issuer_with_edge
from peers import ChallTestSrv, SmtpSink, edge_http_key, pebble_and_dns
from pg import POSTGRES
from pki import Pki

BROWSER_DIR = REPO / "tests" / "browser"
SHOTS = REPO / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
HOSTNAME = "app.customer.com"


def browser_tools():
    node = shutil.which("node")
    missing = [what for what, ok in (
        ("node", node), ("chromium (Debian package)", shutil.which(CHROMIUM)),
        ("tests/browser/node_modules", (BROWSER_DIR / "node_modules" / "puppeteer-core").is_dir()))
        if not ok]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make deps`", pytrace=False)
    return node


def dashboard_url(d):
    return d.server.base_url.removesuffix("/client/v4")


def run_scenario(d, creds, scenario, answer=None, timeout=240, **extra):
    """Runs SCENARIO of dashboard.mjs in the browser against D's server, signed in with CREDS
    where it signs in; ANSWER(question) answers what it asks. -> its result."""
    node = browser_tools()
    cfg = {"url": dashboard_url(d), "token": creds.token, "zone_name": "saasprovider.com",
           "chromium": CHROMIUM, "shots": str(SHOTS),
           "timeout_ms": int(ISSUE_TIMEOUT * 1000), **extra}
    p = subprocess.Popen([node, str(BROWSER_DIR / "dashboard.mjs"), scenario],
                         cwd=BROWSER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(d.root),
                              "DASHBOARD_TEST": json.dumps(cfg)})
    killer = threading.Timer(timeout, p.kill)
    killer.start()
    result, said = None, []
    try:
        for line in p.stdout:
            said.append(line)
            if line.startswith("ASK "):
                p.stdin.write(json.dumps(answer(json.loads(line[4:]))) + "\n")
                p.stdin.flush()
            elif line.startswith("DONE "):
                result = json.loads(line[5:])
        p.wait()
    finally:
        killer.cancel()
    assert p.returncode == 0, f"{scenario} failed:\n{''.join(said)}\n{p.stderr.read()}"
    assert result is not None, f"{scenario} said nothing:\n{''.join(said)}"
    return result


class Stack:
    """saasedge (api, issuer, edge) with Pebble and the customers' DNS, one zone and token."""

    def __init__(self, d, dns, pebble, pki, https_port):
        self.d, self.dns, self.pebble, self.pki, self.https_port = d, dns, pebble, pki, https_port
        self.creds = d.zone(name="saasprovider.com")
        self.api = None  # once the server runs

    @property
    def url(self):
        return dashboard_url(self.d)

    def run(self, scenario, **extra):
        return run_scenario(self.d, self.creds, scenario, self.answer, **extra)

    def answer(self, question):
        if "publish_txt" in question:
            for r in question["publish_txt"]:
                self.dns.set_txt(r["name"], r["value"])
            return {}
        if "new_leaf" in question:
            certificate, key = self.pki.leaf([HOSTNAME], kind=question["new_leaf"])
            self.new_leaf = certificate
            return {"certificate": certificate, "key": key}
        if "sign_csr" in question:
            return {"certificate": self.pki.sign_csr(question["sign_csr"], [HOSTNAME])
                    + self.pki.intermediate}
        raise AssertionError(f"unknown question {question}")


@pytest.fixture
def stack(deploy, tmp_path):
    # The browser drives the same API whatever the build and the engine: the browser tests run
    # in the release pass on SQLite; test_files_served_from_the_binary runs in every pass.
    if ASAN or POSTGRES:
        pytest.skip("browser tests run in the release pass")
    browser_tools()
    if not edge_http_key():
        pytest.skip("this build has no edge to answer http-01")
    http_port, https_port = free_port(), free_port()
    pki = Pki(tmp_path / "pki")
    with pebble_and_dns(tmp_path, http_port=http_port, tls_port=https_port) as (dns, pebble):
        d = deploy()
        s = Stack(d, dns, pebble, pki, https_port)
        start_issuer_with_edge(d, dns, [*pebble.saasedge_args(),
                                        f"--edge.trust_bundle={pki.dir / 'root.pem'}"],
                               http_port, https_port)
        s.api = d.api(s.creds)
        yield s


def test_wrong_token_is_refused(stack):
    r = stack.run("wrong_token")
    assert "Invalid access token" in r["message"]


def test_sign_in_keeps_the_token_out_of_urls_and_storage(stack):
    r = stack.run("sign_in_out")
    assert r["url"].endswith("/dashboard/#/") or r["url"].endswith("/dashboard/"), r


def test_txt_walkthrough_from_the_seeds(stack):
    """Fallback origin from the card; app.customer.com with txt; the TXT name and value read off
    the page and set at the customer's DNS; recheck; the page shows active."""
    r = stack.run("txt_flow", fallback_origin="fallback.saasprovider.com", hostname=HOSTNAME)
    h = stack.api.fetch(r["id"])
    assert h["hostname"] == HOSTNAME and h["ssl"]["status"] == "active", h["ssl"]
    assert h["ssl"]["method"] == "txt"
    # What the page showed is what the API asked the customer for.
    assert set(r["names"]) == {f"_acme-challenge.{HOSTNAME}"}, r
    fallback = stack.api.fallback("GET").json()["result"]
    assert fallback["origin"] == "fallback.saasprovider.com", fallback
    # And the edge serves the name a chain that verifies against Pebble's root.
    root = stack.d.root / "pebble-root.pem"
    root.write_text(stack.pebble.root_pem())
    assert edge_verifies(stack.https_port, HOSTNAME, root)


def test_http_hostname_reaches_active_on_its_own(stack):
    r = stack.run("http_flow", hostname="shop.customer.com")
    assert stack.api.fetch(r["id"])["ssl"]["status"] == "active"


def test_bad_input_is_shown_at_the_field_and_creates_nothing(stack):
    r = stack.run("bad_input", hostname="not a hostname")
    api_says = stack.api.post({"hostname": "not a hostname", "ssl": {"method": "http",
                                                                    "type": "dv"}}).json()
    assert r["message"] == api_says["errors"][0]["message"], (r, api_says)
    assert stack.api.count() == 0


def test_csr_generated_and_certificate_uploaded_through_the_page(stack):
    h = stack.api.create(HOSTNAME, ssl={"method": "txt", "type": "dv"})
    r = stack.run("csr_upload", hostname=HOSTNAME, hostname_id=h["id"])
    after = stack.api.fetch(h["id"])
    assert after["ssl"]["status"] == "active" and after["ssl"]["custom_csr_id"] == r["csr_id"]
    # The edge serves the certificate the customer's CA signed for the CSR made on the page.
    assert edge_verifies(stack.https_port, HOSTNAME, stack.pki.dir / "root.pem")
    _, serial, _ = s_client(stack.https_port, HOSTNAME)
    assert int(serial, 16) in {int(c["serial_number"]) for c in after["ssl"]["certificates"]}


def test_one_certificate_of_an_uploaded_pair_removed_and_replaced(stack):
    (ec, ec_key), (rsa, rsa_key) = (stack.pki.leaf([HOSTNAME], kind=k) for k in ("ec", "rsa"))
    h = stack.api.create(HOSTNAME, ssl={"custom_cert_bundle": [
        {"custom_certificate": ec, "custom_key": ec_key},
        {"custom_certificate": rsa, "custom_key": rsa_key}]})
    stack.run("pack_edit", hostname_id=h["id"])
    after = stack.api.fetch(h["id"])
    (cert,) = after["ssl"]["certificates"]
    _, serial, _ = s_client(stack.https_port, HOSTNAME)
    new_serial = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=stack.new_leaf,
                                text=True, capture_output=True, check=True).stdout
    assert int(serial, 16) == int(cert["serial_number"]) == int(new_serial.split("=")[1], 16)
    assert after["ssl"]["status"] == "active"


def test_every_page_at_both_widths_is_accessible(stack):
    h = stack.api.create(HOSTNAME, ssl={"method": "txt", "type": "dv"})
    r = stack.run("pages", hostname_id=h["id"])
    for width in (1280, 390):
        for page in ("signin", "list", "add", "csrs", "hostname"):
            assert (SHOTS / f"{page}-{width}.png").stat().st_size > 5000, (page, width)
    assert r["minor_violations"] is not None


def test_keyboard_alone_finds_and_opens_a_hostname(stack):
    stack.api.create(HOSTNAME, ssl={"method": "txt", "type": "dv"})
    stack.run("keyboard", hostname=HOSTNAME)


def test_email_approval_page_matches_and_approves(deploy, tmp_path):
    """The page a domain's administrator reaches from the approval mail, in the browser: the
    dashboard's look at both widths, accessible, and its button approves the certificate."""
    if ASAN or POSTGRES:
        pytest.skip("browser tests run in the release pass")
    browser_tools()
    dns, sink = ChallTestSrv(tmp_path), SmtpSink()
    try:
        d = deploy()
        creds = d.zone()
        server = d.start(roles="api,issuer,edge", extra_args=[
            "--dns.resolver", dns.resolver, "--issuance.default_ca", "internal",
            f"--email.smtp_url={sink.url}", f"--email.smtp_ca_file={sink.ca_file}",
            "--email.approval_url_base=https://approve.provider-edge.test"])
        api = d.api(creds)
        host = "shop.customer-approval.com"
        h = api.create(host, ssl={"method": "email", "type": "dv"})
        ((_, _, message),) = sink.wait(1)
        body = message.get_body(preferencelist=("plain",)).get_content()
        path = re.search(r"https://approve\.provider-edge\.test(/dcv/email/[0-9a-f]{64})",
                         body).group(1)
        run_scenario(d, creds, "approval", hostname=host,
                     approval_url=f"http://127.0.0.1:{server.port}{path}")
        wait_until(lambda: api.fetch(h["id"])["ssl"]["status"] == "active", ISSUE_TIMEOUT,
                   "the approved certificate to be active")
        assert (SHOTS / "approval-390.png").exists() and (SHOTS / "approval-1280.png").exists()
    finally:
        sink.stop()
        dns.stop()


class _OtherSite(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>another site</title>")

    def log_message(self, *args):
        pass


def test_another_site_cannot_frame_the_dashboard(stack):
    site = ThreadingHTTPServer(("127.0.0.2", 0), _OtherSite)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        stack.run("framing", other_origin=f"http://127.0.0.2:{site.server_address[1]}/")
    finally:
        site.shutdown()
    r = requests.get(stack.url + "/dashboard/", timeout=10)
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


def test_the_api_takes_no_cross_site_credentials(stack):
    """State-changing calls need the token in a header, which a cross-site page can only send
    after a CORS preflight that the API does not grant; there are no cookies to ride on."""
    r = requests.options(stack.url + f"/client/v4/zones/{stack.creds.zone_id}/custom_hostnames",
                         headers={"Origin": "http://evil.test", "Access-Control-Request-Method":
                                  "POST", "Access-Control-Request-Headers": "authorization"},
                         timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers
    r = requests.get(stack.url + "/dashboard/", timeout=10)
    assert "Set-Cookie" not in r.headers


DASHBOARD_FILES = ["index.html", "app.js", "style.css", "vendor/preact-htm.js", "api.js",
                   "ui.js", "session.js", "signin.js", "hostnames.js", "fallback.js",
                   "add_hostname.js", "hostname.js", "custom_certs.js"]


def test_files_served_from_the_binary(deploy):
    """No browser needed: this runs on every build and engine. The whole dashboard is under
    200 KB compressed, revalidated by ETag, and the API's own routes are untouched."""
    d = deploy()
    creds = d.zone()
    d.start()
    base = d.server.base_url.removesuffix("/client/v4")
    r = requests.get(base + "/", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == "/dashboard/"
    r = requests.get(base + "/dashboard", allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"] == "/dashboard/"
    index = requests.get(base + "/dashboard/", timeout=10)
    assert index.headers["Content-Encoding"] == "gzip" and 'src="app.js"' in index.text
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    total = 0
    for n in DASHBOARD_FILES:
        raw = requests.get(f"{base}/dashboard/{n}", headers={"Accept-Encoding": "gzip"},
                           stream=True, timeout=10)
        assert raw.status_code == 200, n
        body = raw.raw.read()
        plain = requests.get(f"{base}/dashboard/{n}", headers={"Accept-Encoding": "identity"},
                             stream=True, timeout=10)
        assert "Content-Encoding" not in plain.headers, n
        assert gzip.decompress(body) == plain.raw.read(), n
        total += len(body)
        again = requests.get(f"{base}/dashboard/{n}", timeout=10,
                             headers={"If-None-Match": raw.headers["ETag"]})
        assert again.status_code == 304 and not again.content, n
    assert total < 200 * 1024, total
    assert requests.get(base + "/dashboard/nope.js", timeout=10).status_code == 404
    assert requests.get(base + "/dashboard/../client/v4", timeout=10).status_code in (400, 404)
    r = requests.post(base + "/dashboard/", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    # The API is where it was.
    api = d.api(creds)
    assert api.count() == 0
    print(f"dashboard: {total} bytes compressed in {len(DASHBOARD_FILES)} files")


class _PlainPage(BaseHTTPRequestHandler):
    """The peer of the first-paint test: a static page of the dashboard's size, no script."""
    body = (b"<!doctype html><html lang=en><head><meta charset=utf-8><title>peer</title>"
            b"<style>body{font-family:system-ui}</style></head><body><p>"
            + b"A plain page of text. " * 400 + b"</p></body></html>")

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_first_paint_on_loopback(stack):
    """First paint on loopback: 200 ms on the idle test machine (docs/dashboard.md), but
    Chromium's pace and the server's follow the machine's load at the moment (on a loaded
    machine the best of five went from 200 to 380 ms while a plain page stayed near 180), so
    this test only guards against a regression that a user would feel, such as a
    render-blocking script or a heavy page: a plain page from another local server is loaded in
    turn with the dashboard (cold, five times each, in the same run), and the dashboard may take
    at most half a second more than that peer, and never two seconds."""
    peer = ThreadingHTTPServer(("127.0.0.1", 0), _PlainPage)
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    try:
        r = stack.run("load_speed", peer_url=f"http://127.0.0.1:{peer.server_address[1]}/")
    finally:
        peer.shutdown()
    assert r["transferred_bytes"] < 200 * 1024, r
    ours, theirs = (min(p for p in r["first_paint_ms"][k] if p is not None)
                    for k in ("dashboard", "peer"))
    print(f"dashboard: first paint best of 5 cold loads {ours:.0f} ms, a plain page's "
          f"{theirs:.0f} ms in the same run ({r['first_paint_ms']}); "
          f"{r['transferred_bytes']} bytes transferred")
    assert ours < 2000 and ours - theirs < 500, r
