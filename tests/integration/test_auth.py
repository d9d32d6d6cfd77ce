"""Authentication, zone scoping, routing and rate limiting (docs/api.md: Authentication, Routes)."""

import pytest
import requests

from conftest import Api, assert_error, assert_ok, check_envelope, uniq


@pytest.fixture(scope="module")
def two_zones(shared):
    """Zones A and B, each with a token that knows an email; A has one hostname."""
    a = shared.zone(email="ops-a@provider.com")
    b = shared.zone(email="ops-b@provider.com")
    api_a = shared.api(a)
    host = api_a.create(uniq("auth"))
    return a, b, host


def bare(shared, zone_id, headers):
    """An Api without the Bearer header, with HEADERS instead."""
    return Api(shared.server, zone_id, token=None, headers=headers)


def reversed_token(token):
    """A token of the right length and alphabet that was never issued."""
    other = token[::-1]
    assert other != token
    return other


def test_bearer_token_lists_own_zone(shared, two_zones):
    a, _, host = two_zones
    body = assert_ok(shared.api(a).list())
    assert [h["id"] for h in body["result"]] == [host["id"]]


def test_legacy_key_and_email_accepted(shared, two_zones):
    a, _, host = two_zones
    api = bare(shared, a.zone_id, {"X-Auth-Key": a.token, "X-Auth-Email": a.email})
    assert assert_ok(api.get(host["id"]))["result"]["id"] == host["id"]


WRONG_EMAIL = "someone-else@provider.com"

# Each case builds its headers from the zone's real credentials C.
REJECTED = [
    ("no-credentials", lambda c: {}, 400, 9106, None),
    ("basic-auth", lambda c: {"Authorization": "Basic dXNlcjpwYXNz"}, 400, 6003, 6111),
    ("bearer-too-short", lambda c: {"Authorization": "Bearer short"}, 400, 6003, 6111),
    ("bearer-without-token", lambda c: {"Authorization": "Bearer"}, 400, 6003, 6111),
    ("bearer-41-chars", lambda c: {"Authorization": f"Bearer {c.token}x"}, 400, 6003, 6111),
    ("token-without-scheme", lambda c: {"Authorization": c.token}, 400, 6003, 6111),
    ("unknown-bearer", lambda c: {"Authorization": f"Bearer {reversed_token(c.token)}"},
     403, 9109, None),
    ("key-with-wrong-email", lambda c: {"X-Auth-Key": c.token, "X-Auth-Email": WRONG_EMAIL},
     403, 9103, None),
    ("unknown-key", lambda c: {"X-Auth-Key": reversed_token(c.token), "X-Auth-Email": c.email},
     403, 9103, None),
    ("key-without-email", lambda c: {"X-Auth-Key": c.token}, 400, 6003, 6102),
    ("malformed-key", lambda c: {"X-Auth-Key": "abc", "X-Auth-Email": c.email}, 400, 6003, 6103),
    ("bad-bearer-wins-over-good-legacy",
     lambda c: {"Authorization": f"Bearer {reversed_token(c.token)}", "X-Auth-Key": c.token,
                "X-Auth-Email": c.email}, 403, 9109, None),
]


# The messages docs/api.md gives for each code (error_chain codes included).
MESSAGES = {
    9106: "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
    6003: "Invalid request headers",
    6111: "Invalid format for Authorization header",
    6103: "Invalid format for X-Auth-Key header",
    6102: "Invalid format for X-Auth-Email header",
    9109: "Invalid access token",
    9103: "Unknown X-Auth-Key or X-Auth-Email",
    10000: "Authentication error",
}


@pytest.mark.parametrize("make_headers, status, code, chain",
                         [pytest.param(*case[1:], id=case[0]) for case in REJECTED])
def test_rejected_credentials(shared, two_zones, make_headers, status, code, chain):
    a, _, host = two_zones
    api = bare(shared, a.zone_id, make_headers(a))
    # Listing, reading and creating are all refused, and nothing is created.
    err = assert_error(api.list(), status, code, chain=chain)["errors"][0]
    assert err["message"] == MESSAGES[code], err
    if chain:
        assert err["error_chain"][0]["message"] == MESSAGES[chain], err
    assert_error(api.get(host["id"]), status, code, chain=chain)
    name = uniq("denied")
    assert_error(api.post({"hostname": name}), status, code, chain=chain)
    assert shared.api(a).names(hostname=name) == []


def test_bearer_wins_over_bad_legacy_headers(shared, two_zones):
    a, _, host = two_zones
    api = shared.api(a)
    api.session.headers.update({"X-Auth-Key": "x" * 37, "X-Auth-Email": "nobody@nowhere.com"})
    assert assert_ok(api.get(host["id"]))["result"]["id"] == host["id"]


def test_token_of_zone_a_on_zone_b_is_refused(shared, two_zones):
    a, b, _ = two_zones
    wrong = Api(shared.server, b.zone_id, a.token)
    assert assert_error(wrong.list(), 403, 10000)["errors"][0]["message"] == MESSAGES[10000]
    name = uniq("crosszone")
    assert_error(wrong.post({"hostname": name}), 403, 10000)
    assert_error(wrong.fallback("GET"), 403, 10000)
    assert_error(wrong.request("GET", "/quota"), 403, 10000)
    assert shared.api(b).names(hostname=name) == []
    # The same holds with the legacy pair.
    legacy = bare(shared, b.zone_id, {"X-Auth-Key": a.token, "X-Auth-Email": a.email})
    assert_error(legacy.list(), 403, 10000)


def test_other_zones_hostname_is_not_found_in_own_zone(shared, two_zones):
    a, b, host = two_zones
    api_b = shared.api(b)
    assert_error(api_b.get(host["id"]), 404, 1436)
    assert_error(api_b.patch(host["id"], {"custom_metadata": {"x": "y"}}), 404, 1436)
    assert_error(api_b.delete(host["id"]), 404, 1436)
    # …and it is untouched in its own zone.
    got = shared.api(a).fetch(host["id"])
    assert got["hostname"] == host["hostname"]
    assert "custom_metadata" not in got or not got["custom_metadata"]


@pytest.mark.parametrize(
    "zone_id",
    ["not-a-zone", "0123456789abcdef", "0123456789abcdef0123456789abcdef0",
     "g123456789abcdef0123456789abcdef", "0123456789abcdef-123456789abcdef"],
)
def test_zone_id_not_32_hex(shared, two_zones, zone_id):
    a, _, _ = two_zones
    body = assert_error(Api(shared.server, zone_id, a.token).list(), 400, 7003, second=7000)
    assert zone_id in body["errors"][0]["message"] or "route" in body["errors"][0]["message"]


def test_unknown_route_is_404(shared, two_zones):
    a, _, _ = two_zones
    api = shared.api(a)
    assert_error(api.request("GET", "/nonsense/deeper/path/x"), 404, 7003, second=7000)
    for path in (f"/zones/{a.zone_id}/dns_records", f"/accounts/{a.zone_id}/dns_records",
                 "/no/such/thing"):
        r = api.raw("GET", path)
        assert_error(r, 404, 7003, second=7000)


@pytest.mark.parametrize(
    "method, sub",
    [
        ("PUT", ""),
        ("DELETE", ""),
        ("PATCH", ""),
        ("POST", "/ID"),
        ("PUT", "/ID"),
        ("POST", "/fallback_origin"),
        ("PATCH", "/fallback_origin"),
        ("POST", "/quota"),
        ("DELETE", "/quota"),
        ("PUT", "/quota"),
    ],
)
def test_wrong_method_is_405(shared, two_zones, method, sub):
    a, _, host = two_zones
    api = shared.api(a)
    before = api.count()
    r = api.request(method, sub.replace("ID", host["id"]), json={"hostname": uniq("m405")})
    assert_error(r, 405, 10405)
    assert api.count() == before
    assert api.fetch(host["id"])["hostname"] == host["hostname"]


def test_double_and_trailing_slashes_are_tolerated(shared, two_zones):
    a, _, host = two_zones
    api = shared.api(a)
    for path in (
        f"//zones/{a.zone_id}/custom_hostnames",
        f"/zones/{a.zone_id}/custom_hostnames/",
        f"/zones//{a.zone_id}//custom_hostnames",
    ):
        body = assert_ok(api.raw("GET", path))
        assert [h["id"] for h in body["result"]] == [host["id"]], path
    body = assert_ok(api.raw("GET", f"//zones/{a.zone_id}/custom_hostnames/{host['id']}"))
    assert body["result"]["id"] == host["id"]
    # Creating through a '//' path (a base URL ending in '/') works too.
    name = uniq("slash")
    r = api.raw("POST", f"//zones/{a.zone_id}/custom_hostnames", json={"hostname": name})
    assert assert_ok(r, 201)["result"]["hostname"] == name


def test_rate_limit(deploy):
    d = deploy()
    creds = d.zone()
    d.start(rate_limit=5, rate_burst=5)
    api = d.api(creds)
    session = requests.Session()  # one keep-alive connection: the 20 requests go out quickly
    session.headers["Authorization"] = f"Bearer {creds.token}"
    url = api.base + api.zone_path
    codes, limited = [], []
    for _ in range(20):
        r = session.get(url, timeout=30)
        check_envelope(r)
        codes.append(r.status_code)
        if r.status_code == 429:
            limited.append(r)
    assert set(codes) <= {200, 429}, codes
    assert codes[0] == 200, codes
    assert codes.count(200) >= 5, codes  # the burst
    assert limited, f"no 429 among 20 quick requests with rate_limit 5/s burst 5: {codes}"
    for r in limited:
        assert r.json()["errors"][0]["code"] == 971, r.text
        assert r.headers.get("Retry-After", "").strip().isdigit(), r.headers
        assert int(r.headers["Retry-After"]) >= 1
    # Another token (another zone) has its own bucket.
    other = d.api(d.zone())
    assert_ok(other.list())
