"""Bad inputs and their codes (docs/api.md: Hostname rules, ssl, Other fields, Conventions), and
that a refused request changes nothing."""

import json
import uuid

import pytest

from conftest import assert_error, assert_ok, uniq

HOST = "@HOST@"  # replaced by a fresh valid hostname in each case


def fill(obj, host):
    if isinstance(obj, dict):
        return {k: fill(v, host) for k, v in obj.items()}
    if isinstance(obj, list):
        return [fill(v, host) for v in obj]
    if isinstance(obj, str):
        return obj.replace(HOST, host)
    return obj


@pytest.fixture(scope="module")
def vapi(shared):
    """One zone for all the refused requests of this module (each case checks the zone's count
    itself, so they stay independent), with one hostname in it."""
    api = shared.new_api()
    api.create(uniq("resident"))
    return api


def refused(api, status, code, send, probe=None):
    """SEND() is refused with STATUS/CODE and the zone is as before (count, and PROBE absent)."""
    before = api.count()
    r = send()
    assert_error(r, status, code)
    assert api.count() == before, "a refused request changed the zone's hostname count"
    if probe:
        assert api.names(hostname=probe) == []
    return r


LONG_NAME = ".".join(["a" * 63] * 4) + ".com"  # 259 characters
ALL_CERT = {"method": "http", "type": "dv"}

# (id, hostname) refused with code 1407 (HTTP 400).
BAD_1407 = [
    ("empty", ""),
    ("too-long", LONG_NAME),
    ("label-64", "a" * 64 + ".customer-shop.com"),
    ("empty-label", "a..customer-shop.com"),
    ("leading-dot", ".customer-shop.com"),
    ("only-dot", "."),
    ("ipv4", "192.0.2.1"),
    ("ipv4-trailing-dot", "192.0.2.1."),
    ("ipv6", "2001:db8::1"),
    ("ipv6-bracketed", "[2001:db8::1]"),
    ("underscore", "foo_bar.customer-shop.com"),
    ("space", "foo bar.customer-shop.com"),
    ("slash", "foo/bar.customer-shop.com"),
    ("at-sign", "user@customer-shop.com"),
    ("exclamation", "foo!.customer-shop.com"),
    ("with-port", "app.customer-shop.com:443"),
    ("with-scheme", "https://app.customer-shop.com"),
    ("leading-hyphen", "-app.customer-shop.com"),
    ("trailing-hyphen", "app-.customer-shop.com"),
    ("hyphen-before-tld", "app.customer-shop-.com"),
    ("star-in-middle", "app.*.customer-shop.com"),
    ("star-in-label", "*app.customer-shop.com"),
    ("two-stars", "*.*.customer-shop.com"),
    ("star-at-end", "app.customer-shop.*"),
    ("star-alone", "*"),
]
BAD_1408 = [("snowman", "☃.customer-shop.com"), ("emoji", "😀.customer-shop.com")]
BAD_1409 = [(f"tld-{t}", f"app.{t}") for t in
            ("test", "example", "invalid", "localhost", "local", "onion")] + \
    [("tld-upper-test", "APP.TEST")]
BAD_1410 = [("suffix-co-uk", "co.uk"), ("suffix-com", "com"), ("single-label", "intranet"),
            ("suffix-com-dot", "com.")]
BAD_1411 = [("example-com", "example.com"), ("under-example-net", "www.example.net"),
            ("deep-example-org", "a.b.example.org"), ("example-upper", "WWW.EXAMPLE.COM")]


@pytest.mark.parametrize(
    "hostname, code",
    [pytest.param(h, 1407, id=i) for i, h in BAD_1407]
    + [pytest.param(h, 1408, id=i) for i, h in BAD_1408]
    + [pytest.param(h, 1409, id=i) for i, h in BAD_1409]
    + [pytest.param(h, 1410, id=i) for i, h in BAD_1410]
    + [pytest.param(h, 1411, id=i) for i, h in BAD_1411],
)
def test_bad_hostname(vapi, hostname, code):
    refused(vapi, 400, code, lambda: vapi.post({"hostname": hostname, "ssl": ALL_CERT}))


def test_missing_hostname(vapi):
    refused(vapi, 400, 1407, lambda: vapi.post({"ssl": ALL_CERT}))
    refused(vapi, 400, 1407, lambda: vapi.post({}))


# (id, request body with HOST, code); all HTTP 400.
BAD_BODIES = [
    # ssl
    ("method-unknown", {"ssl": {"method": "dns", "type": "dv"}}, 1432),
    ("method-upper", {"ssl": {"method": "CNAME-ish", "type": "dv"}}, 1432),
    ("type-ov", {"ssl": {"method": "http", "type": "ov"}}, 1433),
    ("method-without-type", {"ssl": {"method": "http"}}, 1440),
    ("type-without-method", {"ssl": {"type": "dv"}}, 1440),
    ("bundle-method", {"ssl": {**ALL_CERT, "bundle_method": "best"}}, 1449),
    ("ca-unknown", {"ssl": {**ALL_CERT, "certificate_authority": "nosuchca"}}, 1434),
    ("wildcard-string", {"ssl": {"method": "txt", "type": "dv", "wildcard": "yes"}}, 1434),
    ("wildcard-number", {"ssl": {"method": "txt", "type": "dv", "wildcard": 1}}, 1434),
    ("ssl-string", {"ssl": "http"}, 1434),
    ("ssl-array", {"ssl": [ALL_CERT]}, 1434),
    ("ssl-number", {"ssl": 1}, 1434),
    ("custom-certificate",
     {"ssl": {"custom_certificate":
              "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
              "custom_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"}},
     1426),
    # Custom certificates (test_custom_certs.py has the real ones): no certificate is 1427.
    ("custom-key-alone", {"ssl": {**ALL_CERT, "custom_key": "x"}}, 1427),
    ("custom-csr-id", {"ssl": {**ALL_CERT, "custom_csr_id": str(uuid.UUID(int=7))}}, 1427),
    ("custom-cert-bundle",
     {"ssl": {"custom_cert_bundle": [{"custom_certificate": "x", "custom_key": "y"}]}}, 1426),
    ("min-tls-1.4", {"ssl": {**ALL_CERT, "settings": {"min_tls_version": "1.4"}}}, 1425),
    ("min-tls-name", {"ssl": {**ALL_CERT, "settings": {"min_tls_version": "TLSv1.2"}}}, 1425),
    ("http2-yes", {"ssl": {**ALL_CERT, "settings": {"http2": "yes"}}}, 1422),
    ("tls13-enabled", {"ssl": {**ALL_CERT, "settings": {"tls_1_3": "enabled"}}}, 1424),
    ("early-hints-maybe", {"ssl": {**ALL_CERT, "settings": {"early_hints": "maybe"}}}, 1434),
    ("tls12-only-bool", {"ssl": {**ALL_CERT, "settings": {"tls_1_2_only": True}}}, 1423),
    ("tls12-only-yes", {"ssl": {**ALL_CERT, "settings": {"tls_1_2_only": "yes"}}}, 1423),
    ("cipher-unknown", {"ssl": {**ALL_CERT, "settings": {"ciphers": ["NOT-A-CIPHER"]}}}, 1442),
    ("cipher-one-bad",
     {"ssl": {**ALL_CERT, "settings": {"ciphers": ["ECDHE-ECDSA-AES128-GCM-SHA256", "RC4"]}}},
     1442),
    ("ciphers-not-array",
     {"ssl": {**ALL_CERT, "settings": {"ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256"}}}, 1442),
    ("ciphers-with-tls13",
     {"ssl": {**ALL_CERT, "settings": {"min_tls_version": "1.3",
                                        "ciphers": ["ECDHE-ECDSA-AES128-GCM-SHA256"]}}}, 1443),
    # wildcards need a DNS-based (or email) method
    ("wildcard-host-http", {"hostname": "*.@HOST@", "ssl": ALL_CERT}, 1448),
    ("wildcard-host-default-method", {"hostname": "*.@HOST@", "ssl": {}}, 1448),
    ("wildcard-flag-http", {"ssl": {**ALL_CERT, "wildcard": True}}, 1448),
    # custom_metadata
    ("metadata-string", {"custom_metadata": "customer=1"}, 1401),
    ("metadata-array", {"custom_metadata": [{"customer": "1"}]}, 1401),
    ("metadata-number", {"custom_metadata": 5}, 1401),
    ("metadata-over-4096", {"custom_metadata": {"k": "x" * 4100}}, 1401),
    ("metadata-many-keys-over-4096",
     {"custom_metadata": {f"key{i:04d}": "v" * 20 for i in range(200)}}, 1401),
    ("metadata-on-wildcard",
     {"hostname": "*.@HOST@", "ssl": {"method": "txt", "type": "dv"},
      "custom_metadata": {"a": "b"}}, 1412),
    # origins
    ("origin-bad-char", {"custom_origin_server": "bad host!.provider.com"}, 1415),
    ("origin-empty-label", {"custom_origin_server": "origin..provider.com"}, 1415),
    ("origin-leading-hyphen", {"custom_origin_server": "-origin.provider.com"}, 1415),
    ("origin-port-too-big", {"custom_origin_server": "origin.provider.com:99999"}, 1415),
    ("origin-port-not-number", {"custom_origin_server": "origin.provider.com:https"}, 1415),
    ("origin-other-scheme", {"custom_origin_server": "ftp://origin.provider.com"}, 1415),
    ("origin-scheme-only", {"custom_origin_server": "https://"}, 1415),
    ("origin-with-path", {"custom_origin_server": "origin.provider.com/path"}, 1415),
    ("origin-too-long", {"custom_origin_server": LONG_NAME}, 1415),
    ("origin-invalid-idn", {"custom_origin_server": "❤.com"}, 1416),
    ("origin-wildcard", {"custom_origin_server": "*.provider.com"}, 1420),
    ("sni-bad-char", {"custom_origin_server": "origin.provider.com",
                      "custom_origin_sni": "bad sni!.provider.com"}, 1415),
    ("sni-with-port", {"custom_origin_server": "origin.provider.com",
                       "custom_origin_sni": "sni.provider.com:443"}, 1415),
]


@pytest.mark.parametrize("body, code", [pytest.param(b, c, id=i) for i, b, c in BAD_BODIES])
def test_bad_body(vapi, body, code):
    host = uniq("bad")
    full = fill({"hostname": HOST, **body}, host)
    refused(vapi, 400, code, lambda: vapi.post(full), probe=full["hostname"])


# (id, raw request body, HTTP status) answered with code 1400.
BAD_RAW = [
    ("malformed-json", '{"hostname": "x.customer-shop.com", ', 400),
    ("trailing-garbage", '{"hostname": "x.customer-shop.com"} x', 400),
    ("array-body", '[{"hostname": "x.customer-shop.com"}]', 400),
    ("string-body", '"x.customer-shop.com"', 400),
    ("null-body", "null", 400),
    ("number-body", "42", 400),
    ("empty-body", "", 400),
    ("not-utf8", b'{"hostname": "\xff\xfe.customer-shop.com"}', 400),
]


@pytest.mark.parametrize("raw, status", [pytest.param(b, s, id=i) for i, b, s in BAD_RAW])
def test_bad_raw_body(vapi, raw, status):
    refused(vapi, status, 1400, lambda: vapi.post(data=raw), probe="x.customer-shop.com")


def test_oversize_body_is_413(vapi):
    host = uniq("huge")
    raw = json.dumps({"hostname": host, "custom_metadata": {"pad": "x" * (1024 * 1024 + 100)}})
    refused(vapi, 413, 1400, lambda: vapi.post(data=raw), probe=host)


def name_of_length(n, r):
    """A valid hostname of exactly N characters, unique through R."""
    tail = f".c{r}.com"
    body_len = n - len(tail)
    labels, left = [], body_len
    while left > 0:
        size = min(63, left)
        if left - size == 1:  # never leave a lone dot
            size -= 1
        labels.append("b" * size)
        left -= size + 1
    name = ".".join(labels) + tail
    assert len(name) == n, (len(name), n)
    return name


VALID_EDGE = [
    ("label-63", lambda r: "a" * 63 + f".c{r}.com"),
    ("253-chars", lambda r: name_of_length(253, r)),
    ("example-com-as-label", lambda r: f"example.com.{r}.customer-shop.com"),
    ("ends-like-example", lambda r: f"myexample-{r}.com"),
    ("reserved-word-as-label", lambda r: f"test.{r}.customer-shop.com"),
    ("under-co-uk", lambda r: f"{r}.co.uk"),
    ("digits-first", lambda r: f"0{r}.io"),
    ("hyphens-inside", lambda r: f"a-b-c-{r}.customer-shop.com"),
]


@pytest.mark.parametrize("make", [pytest.param(m, id=i) for i, m in VALID_EDGE])
def test_valid_edge_cases_accepted(vapi, make):
    name = make(uuid.uuid4().hex[:8])
    created = assert_ok(vapi.post({"hostname": name}), 201)["result"]
    assert created["hostname"] == name
    assert vapi.names(hostname=name) == [name]
    assert vapi.delete(created["id"]).status_code == 200


def test_duplicates_are_409(shared, vapi):
    name = uniq("dup")
    first = vapi.create(name, ssl=ALL_CERT)
    variants = [name, name.upper(), name + ".", name.title(), name.upper() + "."]
    for v in variants:
        r = refused(vapi, 409, 1406, lambda: vapi.post({"hostname": v, "ssl": ALL_CERT}))
        assert r.json()["errors"][0]["message"] == "Duplicate custom hostname found."
    # From another zone (hostnames are unique across the installation).
    other = shared.new_api()
    refused(other, 409, 1406, lambda: other.post({"hostname": name.upper()}))
    assert other.count() == 0
    # The first one is untouched.
    assert vapi.names(hostname=name) == [name]
    assert vapi.fetch(first["id"])["ssl"]["id"] == first["ssl"]["id"]


def test_idn_duplicate_of_punycode(vapi):
    r = uuid.uuid4().hex[:6]
    vapi.create(f"müller-{r}.customer-shop.com")
    a_label = "xn--" + f"müller-{r}".encode("punycode").decode()
    refused(vapi, 409, 1406, lambda: vapi.post({"hostname": f"{a_label}.customer-shop.com"}))
    refused(vapi, 409, 1406, lambda: vapi.post({"hostname": f"MÜLLER-{r}.customer-shop.com"}))


def test_deleted_hostname_can_be_created_again(vapi):
    name = uniq("again")
    first = vapi.create(name)
    assert vapi.delete(first["id"]).status_code == 200
    second = vapi.create(name)
    assert second["id"] != first["id"]
    assert vapi.names(hostname=name) == [name]
