"""GET /zones/{zone}/custom_hostnames: filters, order, direction and pagination
(docs/api.md: List). Query keys are sent dotted (`hostname.exact=…`), as the SDKs send them."""

import math
import uuid

import pytest

from conftest import UUID_RE, assert_error, assert_ok, uniq
from edge_helpers import TestCA, import_cert

R = uuid.uuid4().hex[:8]

# The zone's hostnames, in creation order: (name, extra create fields).
ROWS = [
    (f"alpha-{R}.shop-one.com", {"ssl": {"method": "http", "type": "dv"},
                                  "custom_origin_server": "origin-a.provider.com"}),
    (f"beta-{R}.shop-one.com", {"ssl": {"method": "txt", "type": "dv",
                                         "certificate_authority": "google"}}),
    (f"gamma-{R}.shop-two.com", {"custom_origin_server": "origin-b.provider.com"}),
    (f"*.delta-{R}.shop-two.com", {"ssl": {"method": "txt", "type": "dv"}}),
    (f"epsilon-{R}.shop-three.com", {"ssl": {"method": "cname", "type": "dv", "wildcard": True},
                                      "custom_origin_server": "origin-a.provider.com"}),
    (f"zeta-{R}.shop-three.com", {"ssl": {"method": "email", "type": "dv"}}),
    (f"eta-{R}.shop-one.com", {"ssl": {"method": "http", "type": "dv",
                                        "certificate_authority": "lets_encrypt"}}),
    (f"theta-{R}.shop-one.com", {"custom_metadata": {"tier": "free"}}),
    (f"iota-{R}.shop-two.com", {"ssl": {"method": "http", "type": "dv",
                                         "certificate_authority": "google"},
                                 "custom_origin_server": "https://origin-c.provider.com:8443"}),
]


@pytest.fixture(scope="module")
def zone(shared):
    """A zone holding ROWS; returns (api, created objects in creation order)."""
    api = shared.new_api()
    made = [api.create(name, **fields) for name, fields in ROWS]
    return api, made


def ca_of(h):
    """The CA a hostname asked for: certificate_authority when it is one of Cloudflare's
    (configured as such), else named in issuer until a certificate exists (decisions/0030)."""
    ssl = h.get("ssl", {})
    return ssl.get("certificate_authority") or ssl.get("issuer")


def is_wild(h):
    return h["hostname"].startswith("*.") or bool(h.get("ssl", {}).get("wildcard"))


# (id, query params, predicate over a created hostname object)
FILTERS = [
    ("hostname", {"hostname": f"beta-{R}.shop-one.com"},
     lambda h: h["hostname"] == f"beta-{R}.shop-one.com"),
    ("hostname-upper", {"hostname": f"BETA-{R}.SHOP-ONE.COM"},
     lambda h: h["hostname"] == f"beta-{R}.shop-one.com"),
    ("hostname-wildcard", {"hostname": f"*.delta-{R}.shop-two.com"},
     lambda h: h["hostname"] == f"*.delta-{R}.shop-two.com"),
    ("hostname-is-exact-not-substring", {"hostname": f"{R}.shop-one.com"}, lambda h: False),
    ("hostname.exact", {"hostname.exact": f"gamma-{R}.shop-two.com"},
     lambda h: h["hostname"] == f"gamma-{R}.shop-two.com"),
    ("hostname.exact-no-match", {"hostname.exact": f"gamma-{R}.shop-two"}, lambda h: False),
    ("hostname.contain", {"hostname.contain": "shop-one"},
     lambda h: "shop-one" in h["hostname"]),
    ("hostname.contain-label-part", {"hostname.contain": f"ta-{R}"},
     lambda h: f"ta-{R}" in h["hostname"]),
    # Fewer than three characters are looked for without the trigram index; same answers.
    ("hostname.contain-two", {"hostname.contain": "ta"}, lambda h: "ta" in h["hostname"]),
    ("hostname.contain-one", {"hostname.contain": "z"}, lambda h: "z" in h["hostname"]),
    ("hostname.contain-upper", {"hostname.contain": "SHOP-ONE"},
     lambda h: "shop-one" in h["hostname"]),
    ("hostname.contain-across-dot", {"hostname.contain": f"{R}.shop-t"},
     lambda h: f"{R}.shop-t" in h["hostname"]),
    ("hostname.startsWith", {"hostname.startsWith": "e"}, lambda h: h["hostname"][0] == "e"),
    ("hostname.startsWith-label", {"hostname.startsWith": f"zeta-{R}."},
     lambda h: h["hostname"].startswith(f"zeta-{R}.")),
    ("ssl=1", {"ssl": "1"}, lambda h: "ssl" in h),
    ("ssl=0", {"ssl": "0"}, lambda h: True),
    ("ssl_status", {"ssl_status": "initializing"},
     lambda h: h.get("ssl", {}).get("status") == "initializing"),
    ("ssl_status-none", {"ssl_status": "active"}, lambda h: False),
    ("hostname_status", {"hostname_status": "pending"}, lambda h: h["status"] == "pending"),
    ("hostname_status-none", {"hostname_status": "active"}, lambda h: False),
    ("certificate_authority", {"certificate_authority": "google"},
     lambda h: ca_of(h) == "google"),
    ("certificate_authority-le", {"certificate_authority": "lets_encrypt"},
     lambda h: ca_of(h) == "lets_encrypt"),
    ("custom_origin_server", {"custom_origin_server": "origin-a.provider.com"},
     lambda h: h.get("custom_origin_server") == "origin-a.provider.com"),
    ("custom_origin_server-https", {"custom_origin_server": "https://origin-c.provider.com:8443"},
     lambda h: h.get("custom_origin_server") == "https://origin-c.provider.com:8443"),
    ("wildcard=true", {"wildcard": "true"}, is_wild),
    ("wildcard=false", {"wildcard": "false"}, lambda h: not is_wild(h)),
    ("combined", {"hostname.contain": "shop-one", "ssl": "1"},
     lambda h: "shop-one" in h["hostname"] and "ssl" in h),
    ("combined-ca-origin", {"certificate_authority": "google",
                            "custom_origin_server": "https://origin-c.provider.com:8443"},
     lambda h: h["hostname"] == f"iota-{R}.shop-two.com"),
    ("unknown-param-ignored", {"colour": "blue"}, lambda h: True),
]


@pytest.mark.parametrize("params, pred", [pytest.param(p, f, id=i) for i, p, f in FILTERS])
def test_filter(zone, params, pred):
    api, made = zone
    expected = [h["id"] for h in made if pred(h)]
    body = assert_ok(api.list(per_page=50, **params))
    assert [h["id"] for h in body["result"]] == expected, (params, body["result"])
    info = body["result_info"]
    assert (info["count"], info["total_count"]) == (len(expected), len(expected)), info
    assert info["total_pages"] == (math.ceil(len(expected) / 50)), info


def test_filter_by_id(zone):
    api, made = zone
    target = made[4]
    body = assert_ok(api.list(id=target["id"]))
    assert [h["id"] for h in body["result"]] == [target["id"]]
    assert body["result_info"]["total_count"] == 1
    # An id from no zone finds nothing (200, empty).
    body = assert_ok(api.list(id=str(uuid.uuid4())))
    assert body["result"] == [] and body["result_info"]["total_count"] == 0


def test_filter_hostname_idn(shared):
    api = shared.new_api()
    name = f"grün-{R}.shop-four.com"
    created = api.create(name)
    assert created["hostname"].startswith("xn--")
    assert api.names(hostname=name) == [created["hostname"]]
    assert api.names(**{"hostname.exact": created["hostname"]}) == [created["hostname"]]


def test_list_objects_equal_get(zone):
    api, made = zone
    listed = api.all()
    assert len(listed) == len(made)
    for h in listed:
        got = api.fetch(h["id"])
        assert h == got
        assert UUID_RE.match(h["id"])


def test_default_order_is_creation(zone):
    api, made = zone
    body = assert_ok(api.list())
    assert [h["id"] for h in body["result"]] == [h["id"] for h in made]
    assert body["result_info"] == {"page": 1, "per_page": 20, "count": len(made),
                                   "total_count": len(made), "total_pages": 1}
    body = assert_ok(api.list(direction="asc"))
    assert [h["id"] for h in body["result"]] == [h["id"] for h in made]
    body = assert_ok(api.list(direction="desc"))
    assert [h["id"] for h in body["result"]] == [h["id"] for h in reversed(made)]


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_order_hostname(zone, direction):
    api, made = zone
    names = api.names(order="hostname", direction=direction)
    assert names == sorted((h["hostname"] for h in made), reverse=direction == "desc")


def non_decreasing(values):
    return all(a <= b for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("order, key", [("ssl", "method"), ("ssl_status", "status")])
def test_order_ssl_fields(zone, order, key, direction):
    api, made = zone
    listed = api.all(ssl="1", order=order, direction=direction)
    assert sorted(h["id"] for h in listed) == sorted(h["id"] for h in made if "ssl" in h)
    values = [h["ssl"][key] for h in listed]
    if direction == "desc":
        values.reverse()
    assert non_decreasing(values), (order, direction, values)
    if order == "ssl":
        assert len(set(values)) == 4  # cname, email, http, txt: the order means something


def test_order_ssl_includes_every_hostname(zone):
    api, made = zone
    listed = api.all(order="ssl")
    assert sorted(h["id"] for h in listed) == sorted(h["id"] for h in made)


def test_order_created_at(zone):
    api, made = zone
    assert [h["id"] for h in api.all(order="created_at")] == [h["id"] for h in made]
    assert [h["id"] for h in api.all(order="created_at", direction="desc")] == \
        [h["id"] for h in reversed(made)]


@pytest.fixture(scope="module")
def paged(shared):
    """A zone with 23 hostnames."""
    api = shared.new_api()
    made = [api.create(f"p{i:02d}-{R}.paging-shop.com") for i in range(23)]
    return api, made


@pytest.mark.parametrize("page, count", [(1, 5), (2, 5), (3, 5), (4, 5), (5, 3), (6, 0), (99, 0)])
def test_pagination_result_info(paged, page, count):
    api, made = paged
    body = assert_ok(api.list(per_page=5, page=page))
    assert body["result_info"] == {"page": page, "per_page": 5, "count": count,
                                   "total_count": 23, "total_pages": 5}
    assert [h["id"] for h in body["result"]] == \
        [h["id"] for h in made[(page - 1) * 5:(page - 1) * 5 + count]]


def test_walking_pages_yields_each_hostname_once(paged):
    api, made = paged
    for per_page in (5, 7, 23, 1000):
        seen, page = [], 1
        while True:
            body = assert_ok(api.list(per_page=per_page, page=page))
            if not body["result"]:
                break
            seen += [h["hostname"] for h in body["result"]]
            page += 1
        assert sorted(seen) == sorted(h["hostname"] for h in made), per_page
        assert len(seen) == len(set(seen)) == 23
        assert page - 1 == math.ceil(23 / per_page)


def test_pagination_with_order_and_filter(paged):
    api, made = paged
    names = []
    for page in (1, 2, 3):
        body = assert_ok(api.list(**{"hostname.startsWith": "p1"}, order="hostname",
                                  direction="desc", per_page=5, page=page))
        assert body["result_info"]["total_count"] == 10
        assert body["result_info"]["total_pages"] == 2
        names += [h["hostname"] for h in body["result"]]
    assert names == [f"p{i:02d}-{R}.paging-shop.com" for i in range(19, 9, -1)]


def test_per_page_bounds_accepted(paged):
    api, _ = paged
    assert len(assert_ok(api.list(per_page=5))["result"]) == 5
    assert assert_ok(api.list(per_page=1000))["result_info"]["per_page"] == 1000
    assert len(assert_ok(api.list(per_page=1000))["result"]) == 23


def test_empty_zone_lists_nothing(shared):
    api = shared.new_api()
    body = assert_ok(api.list())
    assert body["result"] == []
    assert body["result_info"]["total_count"] == 0 and body["result_info"]["count"] == 0
    assert body["result_info"]["page"] == 1


# (id, params, code); all HTTP 400.
BAD_PARAMS = [
    ("per_page-4", {"per_page": "4"}, 1400),
    ("per_page-1001", {"per_page": "1001"}, 1400),
    ("per_page-0", {"per_page": "0"}, 1400),
    ("per_page-text", {"per_page": "ten"}, 1400),
    ("page-0", {"page": "0"}, 1400),
    ("page-negative", {"page": "-1"}, 1400),
    ("page-text", {"page": "two"}, 1400),
    ("page-fraction", {"page": "1.5"}, 1400),
    ("direction", {"direction": "up"}, 1400),
    ("order", {"order": "colour"}, 1400),
    ("ssl-2", {"ssl": "2"}, 1400),
    ("ssl-yes", {"ssl": "yes"}, 1400),
    ("wildcard-maybe", {"wildcard": "maybe"}, 1400),
    ("ssl_status-bogus", {"ssl_status": "bogus"}, 1400),
    ("hostname_status-bogus", {"hostname_status": "bogus"}, 1400),
    ("id-not-uuid", {"id": "not-a-uuid"}, 1435),
    ("id-with-hostname", {"id": "UUID", "hostname": "a.shop-one.com"}, 1438),
    ("id-with-ssl", {"id": "UUID", "ssl": "1"}, 1438),
    ("id-with-contain", {"id": "UUID", "hostname.contain": "shop"}, 1438),
    ("contain-space", {"hostname.contain": "a b"}, 1437),
    ("contain-special", {"hostname.contain": "shop!one"}, 1437),
    ("contain-too-long", {"hostname.contain": "a" * 256}, 1437),
    ("startsWith-special", {"hostname.startsWith": "#alpha"}, 1437),
]


@pytest.mark.parametrize("params, code", [pytest.param(p, c, id=i) for i, p, c in BAD_PARAMS])
def test_bad_list_params(zone, params, code):
    api, made = zone
    params = {k: (made[0]["id"] if v == "UUID" else v) for k, v in params.items()}
    assert_error(api.list(**params), 400, code)


def test_list_of_other_zone_is_separate(shared, zone):
    _, made = zone
    other = shared.new_api()
    mine = other.create(uniq("other-zone"))
    assert [h["id"] for h in other.all()] == [mine["id"]]
    assert other.names(**{"hostname.contain": R}) == []
    assert assert_ok(other.list(id=made[0]["id"]))["result"] == []


def test_short_contain_follows_every_change(shared, tmp_path):
    """A hostname.contain of one or two characters is answered from the API process's copy of
    the zone's names (store_name_search.c): each create and delete, by this process or another
    one, shows in the next answer, in the count and in every page, both directions."""
    api = shared.new_api()
    ca = TestCA(tmp_path / "ca")
    ids = {}

    def create(word):
        name = f"{word}-{R}.shop-five.com"  # R is hex: no q in it
        ids[name] = api.create(name)["id"]

    def expect(needle):
        want = [n for n in ids if needle in n]
        for direction, order in (("asc", want), ("desc", want[::-1])):
            got, page = [], 1
            while True:
                body = api.page(page=page, per_page=5, direction=direction,
                                **{"hostname.contain": needle})
                assert body["result_info"]["total_count"] == len(want), (needle, body)
                if not body["result"]:
                    break
                got += [h["hostname"] for h in body["result"]]
                page += 1
            assert got == order, (needle, direction)

    for i in range(12):
        create(f"{'q' * (i % 3)}w{i}")
    expect("q")
    expect("qq")
    create("qq-new")  # appended to the copy
    expect("qq")
    # another process creates one (cert import --zone): the same append
    name = f"qq-imported-{R}.shop-five.com"
    chain, key, _ = ca.leaf([name])
    import_cert(shared.data, name, chain, key, zone=api.zone_id)
    ids[name] = api.page(hostname=name)["result"][0]["id"]
    expect("qq")
    # a delete makes the copy read again, or, right after another read, the search in SQL
    for name in [n for n in ids if "qq" in n][:3]:
        assert_ok(api.delete(ids.pop(name)))
        expect("qq")
        expect("q")
    create("last-q")
    expect("q")
    expect("w1")
