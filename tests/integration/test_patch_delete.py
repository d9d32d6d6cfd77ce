"""GET/PATCH/DELETE /zones/{zone}/custom_hostnames/{id} (docs/api.md: Get, edit, delete)."""

import uuid

import pytest

from conftest import assert_error, assert_ok, stable, uniq

HTTP_DV = {"method": "http", "type": "dv"}


@pytest.fixture
def host(api):
    """A hostname with ssl, metadata and both origin fields."""
    return api.create(uniq("edit"), ssl={**HTTP_DV, "settings": {"min_tls_version": "1.2"}},
                      custom_metadata={"customer_id": "1", "plan": "pro"},
                      custom_origin_server="origin.provider.com",
                      custom_origin_sni="sni.provider.com")


def unchanged(api, before):
    assert stable(api.fetch(before["id"])) == stable(before)


# ---- ids -----------------------------------------------------------------------------------

BAD_IDS = ["not-a-uuid", "1234", "0d89c70d-ad9f-4843-b99f-6cc0252067e",
           "0d89c70dad9f4843b99f6cc0252067e9x",
           "0d89c70d-ad9f-4843-b99f-6cc0252067eZ", "%20"]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_bad_id_is_1435(api, host, method, bad):
    r = api.request(method, f"/{bad}", json={"custom_metadata": {"a": "b"}})
    assert_error(r, 400, 1435)
    unchanged(api, host)


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_id_is_1436(api, host, method):
    r = api.request(method, f"/{uuid.uuid4()}", json={"custom_metadata": {"a": "b"}})
    assert_error(r, 404, 1436)
    unchanged(api, host)
    assert api.count() == 1


# ---- PATCH ---------------------------------------------------------------------------------

def test_patch_metadata_replaces(api, host):
    r = api.patch(host["id"], {"custom_metadata": {"plan": "enterprise"}})
    out = assert_ok(r, 202)["result"]
    assert out["custom_metadata"] == {"plan": "enterprise"}
    assert out["id"] == host["id"] and out["hostname"] == host["hostname"]
    assert out["ssl"]["id"] == host["ssl"]["id"]
    assert out["custom_origin_server"] == "origin.provider.com"
    assert out["created_at"] == host["created_at"]
    assert api.fetch(host["id"]) == out


@pytest.mark.parametrize("empty", [None, ""])
def test_patch_metadata_removed(api, host, empty):
    out = api.edit(host["id"], {"custom_metadata": empty})
    assert not out.get("custom_metadata"), out
    assert not api.fetch(host["id"]).get("custom_metadata")
    assert out["custom_origin_server"] == "origin.provider.com"  # the rest is kept


@pytest.mark.parametrize("field, value", [
    ("custom_origin_server", "new-origin.provider.com"),
    ("custom_origin_server", "198.51.100.7:8443"),
    ("custom_origin_server", "https://secure.provider.com"),
    ("custom_origin_sni", "new-sni.provider.com"),
    ("custom_origin_sni", ":request_host_header:"),
])
def test_patch_origin_set(api, host, field, value):
    out = api.edit(host["id"], {field: value})
    assert out[field] == value
    assert api.fetch(host["id"])[field] == value
    assert out["custom_metadata"] == host["custom_metadata"]


@pytest.mark.parametrize("empty", [None, ""])
@pytest.mark.parametrize("field", ["custom_origin_server", "custom_origin_sni"])
def test_patch_origin_removed(api, host, field, empty):
    out = api.edit(host["id"], {field: empty})
    assert not out.get(field), out
    assert not api.fetch(host["id"]).get(field)
    other = "custom_origin_sni" if field == "custom_origin_server" else "custom_origin_server"
    assert out[other] == host[other]
    # …and the filter no longer finds it by the old origin.
    if field == "custom_origin_server":
        assert api.names(custom_origin_server="origin.provider.com") == []


def test_patch_empty_body_changes_nothing(api, host):
    out = api.edit(host["id"], {})
    assert stable(out) == stable(host)


def ssl_without(obj, *keys):
    return {k: v for k, v in obj["ssl"].items() if k not in keys}


def test_patch_settings_only_keeps_certificate(api, host):
    before = api.fetch(host["id"])
    out = api.edit(host["id"], {"ssl": {"settings": {"min_tls_version": "1.3", "http2": "on"}}})
    assert out["ssl"]["id"] == host["ssl"]["id"]
    assert out["ssl"]["settings"]["min_tls_version"] == "1.3"
    assert out["ssl"]["settings"]["http2"] == "on"
    # Everything else about the certificate is as it was (method, type, status, CA, …).
    assert ssl_without(out, "settings") == ssl_without(before, "settings")
    got = api.fetch(host["id"])
    assert got["ssl"]["settings"]["min_tls_version"] == "1.3"
    assert ssl_without(got, "settings") == ssl_without(before, "settings")


def test_patch_bundle_method_only_keeps_certificate(api, host):
    before = api.fetch(host["id"])
    out = api.edit(host["id"], {"ssl": {"bundle_method": "force"}})
    assert out["ssl"]["bundle_method"] == "force"
    assert ssl_without(out, "bundle_method") == ssl_without(before, "bundle_method")
    got = api.fetch(host["id"])
    assert got["ssl"]["bundle_method"] == "force"
    assert ssl_without(got, "bundle_method") == ssl_without(before, "bundle_method")


def test_patch_method_change_restarts(api, host):
    out = api.edit(host["id"], {"ssl": {"method": "txt", "type": "dv"}})
    assert (out["ssl"]["method"], out["ssl"]["type"]) == ("txt", "dv")
    assert out["ssl"]["status"] == "initializing"
    got = api.fetch(host["id"])
    assert got["ssl"]["method"] == "txt"
    assert api.names(order="ssl", ssl="1") == [host["hostname"]]


def test_patch_ca_change_restarts(api, host):
    out = api.edit(host["id"], {"ssl": {**HTTP_DV, "certificate_authority": "lets_encrypt"}})
    # Not configured here, so not really Let's Encrypt: named in issuer (decisions/0030).
    assert out["ssl"]["issuer"] == "lets_encrypt" and "certificate_authority" not in out["ssl"]
    assert out["ssl"]["status"] == "initializing"
    assert api.names(certificate_authority="lets_encrypt") == [host["hostname"]]


def test_patch_same_method_is_a_recheck(api, host):
    out = api.edit(host["id"], {"ssl": HTTP_DV})
    assert (out["ssl"]["method"], out["ssl"]["type"]) == ("http", "dv")
    assert out["ssl"]["status"] in ("initializing", "pending_validation")
    assert out["status"] == "pending"
    assert out["custom_metadata"] == host["custom_metadata"]


def test_patch_adds_ssl_to_hostname_without(api):
    plain = api.create(uniq("nossl"))
    assert api.names(ssl="1") == []
    out = api.edit(plain["id"], {"ssl": {"method": "txt", "type": "dv"}})
    assert out["ssl"]["method"] == "txt" and out["ssl"]["status"] == "initializing"
    assert out["ssl"]["issuer"] == "internal" and "certificate_authority" not in out["ssl"]
    assert out["ssl"]["bundle_method"] == "ubiquitous"
    assert api.names(ssl="1") == [plain["hostname"]]


def test_patch_same_hostname_accepted(api, host):
    out = api.edit(host["id"], {"hostname": host["hostname"],
                                "custom_metadata": {"customer_id": "2"}})
    assert out["hostname"] == host["hostname"]
    assert out["custom_metadata"] == {"customer_id": "2"}


def test_patch_whole_object_back_is_accepted(api, host):
    """Legacy Go and Terraform send the whole object back, read-only fields included."""
    sent = dict(host)
    sent["custom_metadata"] = {"customer_id": "3"}
    sent["status"] = "active"
    sent["created_at"] = "2001-01-01T00:00:00.000000Z"
    sent["ssl"] = dict(host["ssl"], status="active", settings={})
    sent["ownership_verification"] = {}
    sent["ownership_verification_http"] = {}
    out = api.edit(host["id"], sent)
    assert out["custom_metadata"] == {"customer_id": "3"}
    assert out["status"] == "pending"
    assert out["created_at"] == host["created_at"]
    assert out["ssl"]["status"] != "active"
    assert out["ownership_verification"] == host["ownership_verification"]


# (id, PATCH body, HTTP status, code): each refused and nothing changes.
BAD_PATCHES = [
    ("other-hostname", {"hostname": "other-@R@.saas-customer.com"}, 409, 1439),
    ("other-hostname-with-metadata",
     {"hostname": "other-@R@.saas-customer.com", "custom_metadata": {"a": "b"}}, 409, 1439),
    ("method-without-type", {"ssl": {"method": "txt"}}, 400, 1440),
    ("type-without-method", {"ssl": {"type": "dv"}}, 400, 1440),
    ("bad-method", {"ssl": {"method": "dns", "type": "dv"}}, 400, 1432),
    ("bad-type", {"ssl": {"method": "http", "type": "ev"}}, 400, 1433),
    ("bad-bundle", {"ssl": {"bundle_method": "fastest"}}, 400, 1449),
    ("bad-ca", {"ssl": {**HTTP_DV, "certificate_authority": "nosuchca"}}, 400, 1434),
    ("wildcard-http", {"ssl": {**HTTP_DV, "wildcard": True}}, 400, 1448),
    ("bad-min-tls", {"ssl": {"settings": {"min_tls_version": "0.9"}}}, 400, 1425),
    ("bad-http2", {"ssl": {"settings": {"http2": "sometimes"}}}, 400, 1422),
    ("custom-certificate", {"ssl": {"custom_certificate": "x", "custom_key": "y"}}, 400, 1426),
    ("ssl-not-object", {"ssl": "txt"}, 400, 1434),
    ("metadata-array", {"custom_metadata": ["a"]}, 400, 1401),
    ("metadata-too-big", {"custom_metadata": {"k": "v" * 5000}}, 400, 1401),
    ("origin-invalid", {"custom_origin_server": "bad origin!"}, 400, 1415),
    ("origin-wildcard", {"custom_origin_server": "*.provider.com"}, 400, 1420),
    ("sni-invalid", {"custom_origin_sni": "bad sni!"}, 400, 1415),
]


@pytest.mark.parametrize("body, status, code",
                         [pytest.param(b, s, c, id=i) for i, b, s, c in BAD_PATCHES])
def test_bad_patch(api, host, body, status, code):
    r = uuid.uuid4().hex[:8]
    body = {k: (v.replace("@R@", r) if isinstance(v, str) else v) for k, v in body.items()}
    assert_error(api.patch(host["id"], body), status, code)
    unchanged(api, host)
    if "hostname" in body:
        assert api.names(hostname=body["hostname"]) == []


@pytest.mark.parametrize("raw", ['{"custom_metadata": ', "[]", '"x"', ""])
def test_patch_malformed_body(api, host, raw):
    assert_error(api.patch(host["id"], data=raw), 400, 1400)
    unchanged(api, host)


def test_patch_metadata_on_wildcard_is_1412(api):
    wild = api.create("*." + uniq("wildmeta"), ssl={"method": "txt", "type": "dv"})
    assert_error(api.patch(wild["id"], {"custom_metadata": {"a": "b"}}), 400, 1412)
    unchanged(api, wild)


# ---- DELETE --------------------------------------------------------------------------------

def test_delete(api, host):
    keep = api.create(uniq("keep"))
    r = api.delete(host["id"])
    assert r.status_code == 200
    assert r.json() == {"id": host["id"], "success": True, "errors": [], "messages": [],
                        "result": {"id": host["id"]}}
    assert_error(api.get(host["id"]), 404, 1436)
    assert_error(api.patch(host["id"], {"custom_metadata": {"a": "b"}}), 404, 1436)
    assert_error(api.delete(host["id"]), 404, 1436)
    assert [h["id"] for h in api.all()] == [keep["id"]]
    assert api.names(hostname=host["hostname"]) == []
    assert api.quota()["used"] == 1
