"""Fallback origin and quota (docs/api.md: Fallback origin, Quota)."""

import pytest

from conftest import assert_error, assert_ok, parse_time, run_cli, uniq


def test_fallback_origin_lifecycle(api):
    assert_error(api.fallback("GET"), 404, 1551)
    assert_error(api.fallback("DELETE"), 404, 1551)

    put = assert_ok(api.fallback("PUT", {"origin": "fallback.provider.com"}))["result"]
    assert put["origin"] == "fallback.provider.com"
    assert put["status"] == "pending_deployment"
    assert put["errors"] == []
    created, updated = parse_time(put["created_at"]), parse_time(put["updated_at"])
    assert updated >= created

    got = assert_ok(api.fallback("GET"))["result"]
    assert got["origin"] == "fallback.provider.com"
    assert got["status"] in ("pending_deployment", "active")
    assert got["created_at"] == put["created_at"]

    again = assert_ok(api.fallback("PUT", {"origin": "https://fallback2.provider.com:8443"}))
    again = again["result"]
    assert again["origin"] == "https://fallback2.provider.com:8443"
    assert again["created_at"] == put["created_at"]  # replacing keeps created_at
    assert parse_time(again["updated_at"]) >= updated
    assert assert_ok(api.fallback("GET"))["result"]["origin"] == again["origin"]

    gone = assert_ok(api.fallback("DELETE"))["result"]
    assert gone["origin"] == "https://fallback2.provider.com:8443"
    assert gone["status"] == "pending_deletion"
    assert_error(api.fallback("GET"), 404, 1551)
    assert_error(api.fallback("DELETE"), 404, 1551)


@pytest.mark.parametrize("origin", ["198.51.100.5:8080", "backend.internal", "origin.provider.com",
                                    "https://203.0.113.7"])
def test_fallback_origin_forms(api, origin):
    assert assert_ok(api.fallback("PUT", {"origin": origin}))["result"]["origin"] == origin
    assert assert_ok(api.fallback("GET"))["result"]["origin"] == origin


@pytest.mark.parametrize("sent, shown", [
    ("Fallback.Provider.COM", "Fallback.Provider.COM"),
    ("HTTPS://Fallback.Provider.COM:8443", "HTTPS://Fallback.Provider.COM:8443"),
    # Not the same text in another case: the normalised form.
    ("fallback.provider.com.", "fallback.provider.com"),
    ("Bücher.Provider.com", "xn--bcher-kva.provider.com"),
])
def test_fallback_origin_answered_in_the_case_sent(api, sent, shown):
    """Terraform compares the origin it reads with its configuration: a name lower-cased by
    saasedge would be PUT again on every apply."""
    assert assert_ok(api.fallback("PUT", {"origin": sent}))["result"]["origin"] == shown
    assert assert_ok(api.fallback("GET"))["result"]["origin"] == shown


# (id, body, code) refused with HTTP 400; a previously set origin stays.
BAD_FALLBACK = [
    ("missing", {}, 1400),
    ("other-field", {"hostname": "fallback.provider.com"}, 1400),
    ("invalid-chars", {"origin": "bad origin!"}, 1415),
    ("empty-label", {"origin": "a..provider.com"}, 1415),
    ("bad-port", {"origin": "origin.provider.com:70000"}, 1415),
    ("wildcard", {"origin": "*.provider.com"}, 1420),
    ("invalid-idn", {"origin": "❤.com"}, 1416),
]


@pytest.mark.parametrize("body, code", [pytest.param(b, c, id=i) for i, b, c in BAD_FALLBACK])
def test_bad_fallback_origin(api, body, code):
    assert_error(api.fallback("PUT", body), 400, code)
    assert_error(api.fallback("GET"), 404, 1551)  # nothing was set
    assert_ok(api.fallback("PUT", {"origin": "kept.provider.com"}))
    assert_error(api.fallback("PUT", body), 400, code)
    assert assert_ok(api.fallback("GET"))["result"]["origin"] == "kept.provider.com"


@pytest.mark.parametrize("raw", ['{"origin": ', '["x"]', ""])
def test_fallback_malformed_body(api, raw):
    assert_error(api.fallback("PUT", data=raw), 400, 1400)
    assert_error(api.fallback("GET"), 404, 1551)


def test_fallback_origin_is_per_zone(shared, api):
    other = shared.new_api()
    assert_ok(api.fallback("PUT", {"origin": "mine.provider.com"}))
    assert_error(other.fallback("GET"), 404, 1551)
    assert_ok(other.fallback("PUT", {"origin": "theirs.provider.com"}))
    assert assert_ok(api.fallback("GET"))["result"]["origin"] == "mine.provider.com"
    assert_ok(other.fallback("DELETE"))
    assert assert_ok(api.fallback("GET"))["result"]["origin"] == "mine.provider.com"


def test_default_quota(api):
    q = api.quota()
    assert set(q) >= {"allocated", "used", "exceeded", "hard_cap"}, q
    assert isinstance(q["allocated"], int) and q["allocated"] > 0
    assert q["used"] == 0 and q["exceeded"] is False
    assert q["hard_cap"] >= q["allocated"]
    api.create(uniq("q"))
    api.create(uniq("q"))
    assert api.quota()["used"] == 2


def test_quota_enforced(shared):
    api = shared.new_api(quota=2)
    q = api.quota()
    assert (q["allocated"], q["used"], q["exceeded"]) == (2, 0, False), q
    assert q["hard_cap"] >= 2
    first = api.create(uniq("quota"))
    q = api.quota()
    assert (q["allocated"], q["used"], q["exceeded"]) == (2, 1, False)
    api.create(uniq("quota"))
    q = api.quota()
    # At the allocation, not over it; and the hard cap is the allocation by default.
    assert (q["allocated"], q["used"], q["exceeded"], q["hard_cap"]) == (2, 2, False, 2)

    refused_name = uniq("quota")
    assert_error(api.post({"hostname": refused_name}), 403, 1405)
    assert_error(api.post({"hostname": uniq("quota"), "ssl": {"method": "txt", "type": "dv"}}),
                 403, 1405)
    assert api.count() == 2
    assert api.names(hostname=refused_name) == []
    assert api.quota()["used"] == 2

    # Editing is still allowed at the quota.
    assert api.edit(first["id"], {"custom_metadata": {"a": "b"}})["custom_metadata"] == {"a": "b"}

    # Deleting frees a slot.
    assert_ok(api.delete(first["id"]))
    q = api.quota()
    assert (q["used"], q["exceeded"]) == (1, False)
    api.create(refused_name)
    assert api.quota()["used"] == 2
    assert_error(api.post({"hostname": uniq("quota")}), 403, 1405)


def test_allocation_is_soft_and_the_hard_cap_refuses(shared):
    """Cloudflare's quota: creates go on past the allocation (and it reads exceeded) until the
    hard cap, where they are refused."""
    api = shared.new_api(quota=1, hard_cap=3)
    assert api.quota() == {"allocated": 1, "used": 0, "exceeded": False, "hard_cap": 3}
    api.create(uniq("cap"))
    assert api.quota()["exceeded"] is False
    api.create(uniq("cap"))
    api.create(uniq("cap"))
    assert api.quota() == {"allocated": 1, "used": 3, "exceeded": True, "hard_cap": 3}
    body = assert_error(api.post({"hostname": uniq("cap")}), 403, 1405)
    assert "3" in body["errors"][0]["message"], body
    assert api.count() == 3


@pytest.mark.parametrize("args", [["--quota", "5", "--hard-cap", "4"], ["--hard-cap", "0"]])
def test_hard_cap_below_quota_is_refused(shared, args):
    p = run_cli("zone", "create", uniq("cap", "provider.com"), *args, data=shared.data,
                check=False)
    assert p.returncode == 2 and "--hard-cap" in p.stderr, p.stderr


def test_quota_counts_only_own_zone(shared):
    a = shared.new_api(quota=2)
    b = shared.new_api(quota=2)
    a.create(uniq("qa"))
    a.create(uniq("qa"))
    assert b.quota()["used"] == 0
    b.create(uniq("qb"))
    assert (a.quota()["used"], b.quota()["used"]) == (2, 1)
