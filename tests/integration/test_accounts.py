"""Accounts above zones (issue 13, item 3; docs/api.md "Accounts and zones"): `saasedge account
create`, zones in an account (or in the default account), tokens for a zone or for a whole
account, GET /accounts/{id}, GET /zones/{id} and GET /zones as clients look them up, and the
account's own custom CSRs at /accounts/{id}/custom_csrs, usable by every zone of the account and
by no other."""

import re

import pytest

from conftest import (Api, Deployment, TIME_RE, UUID_RE, assert_error, assert_ok,
                      check_envelope, create_token, finish_servers, run_cli, uniq)
from pki import Pki

ID_RE = re.compile(r"^[0-9a-f]{32}$")
CSR = {"country": "US", "state": "MA", "locality": "Boston", "organization": "City of Boston"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def d(tmp_path_factory, pki):
    d = Deployment(tmp_path_factory.mktemp("accounts"))
    d.start(extra_args=[f"--edge.trust_bundle={pki.dir / 'root.pem'}"])
    yield d
    finish_servers(d.servers)


def account_create(d, name):
    out = run_cli("account", "create", name, data=d.data).stdout.strip()
    assert ID_RE.match(out), out
    return out


def zone_create(d, account=None):
    args = ["zone", "create", uniq("acct", "provider.com")]
    if account:
        args += ["--account", account.upper()]  # ids are accepted in either case
    out = run_cli(*args, data=d.data).stdout.strip()
    assert ID_RE.match(out), out
    return out


def account_token(d, account):
    return run_cli("token", "create", "--account", account, data=d.data).stdout.strip()


def get(d, token, path, **kw):
    r = Api(d.server, "", token).raw("GET", path, **kw)
    check_envelope(r)
    return r


def test_account_and_zone_objects(d):
    acct = account_create(d, "Example Provider")
    zone = zone_create(d, acct)
    token = account_token(d, acct)
    a = assert_ok(get(d, token, f"/accounts/{acct}"))["result"]
    assert a["id"] == acct and a["name"] == "Example Provider"
    assert a["type"] == "standard" and TIME_RE.match(a["created_on"]), a
    z = assert_ok(get(d, token, f"/zones/{zone}"))["result"]
    assert z["id"] == zone and z["account"] == {"id": acct, "name": "Example Provider"}, z
    assert z["status"] == "active" and z["paused"] is False and z["type"] == "full", z
    # A zone's own token reads its zone (and its account's id) but not the account.
    zone_token = create_token(d.data, zone)
    assert assert_ok(get(d, zone_token, f"/zones/{zone}"))["result"]["account"]["id"] == acct
    assert_error(get(d, zone_token, f"/accounts/{acct}"), 403, 10000)


def test_zones_without_account_share_the_default_account(tmp_path):
    """On a new installation the first zone makes the account "default"; later zones without
    --account join the oldest account, even after others were made."""
    fresh = Deployment(tmp_path)
    fresh.start()
    try:
        one = zone_create(fresh)
        account_create(fresh, "Later")
        two = zone_create(fresh)
        seen = [assert_ok(get(fresh, create_token(fresh.data, z), f"/zones/{z}"))["result"]
                ["account"] for z in (one, two)]
        assert seen[0] == seen[1] and seen[0]["name"] == "default", seen
    finally:
        finish_servers(fresh.servers)


def test_account_token_reaches_its_zones_and_no_other(d):
    acct, other = account_create(d, "A"), account_create(d, "B")
    mine = [zone_create(d, acct), zone_create(d, acct)]
    theirs = zone_create(d, other)
    token = account_token(d, acct)
    for zone in mine:
        api = Api(d.server, zone, token)
        name = uniq("acct")
        assert_ok(api.post({"hostname": name, "ssl": {"method": "http", "type": "dv"}}), 201)
        assert [h["hostname"] for h in assert_ok(api.request("GET"))["result"]] == [name]
    api = Api(d.server, theirs, token)
    assert_error(api.request("GET"), 403, 10000)
    assert_error(api.post({"hostname": uniq("acct")}), 403, 10000)
    assert_error(get(d, token, f"/zones/{theirs}"), 403, 10000)
    assert_error(get(d, token, f"/accounts/{other}"), 403, 10000)
    # A zone that does not exist answers as one the token cannot reach.
    assert_error(get(d, token, f"/zones/{'0' * 32}"), 403, 10000)


def test_zone_list_shows_what_the_credential_reaches(d):
    """GET /zones (Cloudflare's list zones), which the dashboard asks at sign-in: a zone's token
    sees its zone, an account's token its account's zones by name, paged; nobody sees more."""
    acct, other = account_create(d, "Lister"), account_create(d, "Other")
    zones = sorted((zone_create(d, acct) for _ in range(6)),
                   key=lambda z: assert_ok(get(d, create_token(d.data, z), f"/zones/{z}"))
                   ["result"]["name"])
    zone_create(d, other)
    body = assert_ok(get(d, account_token(d, acct), "/zones", params={"per_page": 5}))
    assert [z["id"] for z in body["result"]] == zones[:5]
    assert body["result_info"] == {"page": 1, "per_page": 5, "count": 5, "total_count": 6,
                                   "total_pages": 2}
    assert all(z["account"]["id"] == acct for z in body["result"])
    body = assert_ok(get(d, account_token(d, acct), "/zones", params={"page": 2,
                                                                     "per_page": 5}))
    assert [z["id"] for z in body["result"]] == zones[5:]
    body = assert_ok(get(d, create_token(d.data, zones[0]), "/zones"))
    assert [z["id"] for z in body["result"]] == [zones[0]]
    assert body["result_info"]["total_count"] == 1
    assert_error(get(d, account_token(d, acct), "/zones", params={"per_page": "x"}), 400, 1400)
    r = Api(d.server, "", account_token(d, acct)).raw("POST", "/zones", json={"name": "a.com"})
    assert r.status_code == 405


def test_account_csrs_serve_every_zone_of_the_account(d, pki):
    acct, other = account_create(d, "CSR owner"), account_create(d, "Other")
    zone = zone_create(d, acct)
    token = account_token(d, acct)
    path = f"/accounts/{acct}/custom_csrs"
    api = Api(d.server, "", token)
    name = uniq("acctcsr")
    body = dict(CSR, common_name=name, sans=[name], key_type="p256v1")
    csr = assert_ok(api.raw("POST", path, json=body), 201)["result"]
    assert UUID_RE.match(csr["id"]) and "BEGIN CERTIFICATE REQUEST" in csr["csr"], csr
    assert csr["account_tag"] == acct, csr
    assert "PRIVATE KEY" not in str(csr)
    got = assert_ok(api.raw("GET", f"{path}/{csr['id']}"))["result"]
    assert got["id"] == csr["id"] and got["csr"] == csr["csr"]
    listed = assert_ok(api.raw("GET", path))
    assert [c["id"] for c in listed["result"]] == [csr["id"]]
    assert listed["result_info"]["total_count"] == 1
    # Not one of the zone's own CSRs, and not reachable through another account.
    zone_api = Api(d.server, zone, token)
    assert assert_ok(zone_api.raw("GET", f"/zones/{zone}/custom_csrs"))["result"] == []
    assert_error(zone_api.raw("GET", f"/zones/{zone}/custom_csrs/{csr['id']}"), 404, 1419)
    assert_error(get(d, account_token(d, other), f"/accounts/{acct}/custom_csrs"), 403, 10000)
    # A zone of the account uploads the certificate the customer's CA made from it.
    cert = pki.sign_csr(csr["csr"], [name]) + pki.intermediate
    r = zone_api.post({"hostname": name,
                       "ssl": {"custom_csr_id": csr["id"], "custom_certificate": cert}})
    h = assert_ok(r, 201)["result"]
    assert h["ssl"]["custom_csr_id"] == csr["id"], h["ssl"]
    # A zone of another account cannot use it.
    foreign = Api(d.server, zone_create(d, other), account_token(d, other))
    r = foreign.post({"hostname": uniq("acctcsr"),
                      "ssl": {"custom_csr_id": csr["id"], "custom_certificate": cert}})
    assert_error(r, 404, 1431)
    # In use: not deleted (1420), as a zone's CSR.
    assert_error(api.raw("DELETE", f"{path}/{csr['id']}"), 409, 1420)
    assert_ok(zone_api.request("DELETE", f"/{h['id']}"))
    assert_ok(api.raw("DELETE", f"{path}/{csr['id']}"))
    assert_error(api.raw("GET", f"{path}/{csr['id']}"), 404, 1419)


@pytest.mark.parametrize("args, needle", [
    (["token", "create"], "--zone ID"),
    (["token", "create", "--zone", "a" * 32, "--account", "b" * 32], "--zone ID"),
    (["token", "create", "--account", "xyz"], "32 hex"),
    (["account", "create"], "usage"),
])
def test_cli_refuses_bad_arguments(d, args, needle):
    p = run_cli(*args, data=d.data, check=False)
    assert p.returncode == 2 and needle in p.stderr, p.stderr


def test_cli_refuses_unknown_account(d):
    missing = "c" * 32
    p = run_cli("zone", "create", uniq("acct", "provider.com"), "--account", missing,
                data=d.data, check=False)
    assert p.returncode == 1 and f"account {missing} does not exist" in p.stderr, p.stderr
    p = run_cli("token", "create", "--account", missing, data=d.data, check=False)
    assert p.returncode == 1 and f"account {missing} does not exist" in p.stderr, p.stderr
