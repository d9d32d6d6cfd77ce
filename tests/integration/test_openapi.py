"""The OpenAPI document (issue 16, item 5): served at /client/v4/openapi.json without a token,
the same bytes as docs/openapi.json, and true of the server: every operation it lists is called
here with real requests, and every answer is checked against the operation's documented
response schema (JSON Schema 2020-12, as OpenAPI 3.1 uses), so each documented field that is
always present must be there, with its type."""

import re
from pathlib import Path

import jsonschema
import pytest
import requests

from conftest import Api, Deployment, finish_servers, run_cli, uniq
from pki import Pki

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
CSR = {"country": "US", "state": "MA", "locality": "Boston", "organization": "Example Co",
       "key_type": "p256v1"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def d(tmp_path_factory, pki):
    d = Deployment(tmp_path_factory.mktemp("openapi"))
    d.start(extra_args=[f"--edge.trust_bundle={pki.dir / 'root.pem'}"])
    yield d
    finish_servers(d.servers)


@pytest.fixture(scope="module")
def doc(d):
    r = requests.get(f"{d.server.base_url}/openapi.json", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == DOC.read_bytes()
    return r.json()


class Checker:
    """Calls operations by path template and method, validates each answer against the document
    and remembers which operations were called."""

    def __init__(self, d, doc, zone_token, account_token, zone_id, account_id):
        self.base = d.server.base_url
        self.doc = doc
        self.tokens = {"zone": zone_token, "account": account_token}
        self.ids = {"zone_id": zone_id, "account_id": account_id}
        self.called = set()
        self.resolver = jsonschema.RefResolver.from_schema(doc)

    def call(self, method, template, token="zone", expect=None, **kw):
        path = template.format(**self.ids)
        headers = {"Authorization": f"Bearer {self.tokens[token]}"} if token else {}
        r = requests.request(method, self.base + path, headers=headers, timeout=30, **kw)
        op = self.doc["paths"][template][method.lower()]
        self.called.add((template, method.lower()))
        status = str(r.status_code)
        assert (expect is None and r.status_code < 300) or r.status_code == expect, \
            f"{method} {path}: {r.status_code} {r.text[:500]}"
        responses = op["responses"]
        assert status in responses or "default" in responses, (method, template, status)
        documented = responses.get(status) or responses["default"]
        documented = self.resolve(documented)
        schema = documented["content"]["application/json"]["schema"]
        validator = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        errors = sorted(validator.iter_errors(r.json()), key=lambda e: list(e.path))
        assert not errors, f"{method} {template} {status}: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        return r.json()

    def resolve(self, node):
        return resolve(self.resolver, node)


def resolve(resolver, node):
    """NODE, or what its $ref chain leads to."""
    while "$ref" in node:
        _, node = resolver.resolve(node["$ref"])
    return node


def test_document_is_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    assert doc["servers"] == [{"url": "/client/v4"}]
    ops = [(p, m) for p, item in doc["paths"].items() for m in item
           if m in ("get", "post", "put", "patch", "delete")]
    assert len(ops) >= 30, ops
    ids = [doc["paths"][p][m]["operationId"] for p, m in ops]
    assert len(ids) == len(set(ids)), ids
    # Every documented path parameter appears in its template and the reverse.
    resolver = jsonschema.RefResolver.from_schema(doc)
    for p, item in doc["paths"].items():
        named = set(re.findall(r"{(\w+)}", p))
        for m in item:
            if m not in ("get", "post", "put", "patch", "delete"):
                continue
            params = item[m].get("parameters", []) + item.get("parameters", [])
            params = [resolve(resolver, x) for x in params]
            assert named == {x["name"] for x in params if x["in"] == "path"}, (p, m)


def test_every_operation_answers_as_documented(d, doc, pki):
    zone_id = run_cli("zone", "create", uniq("openapi", "provider.com"),
                      data=d.data).stdout.strip()
    zone_token = run_cli("token", "create", "--zone", zone_id, data=d.data).stdout.strip()
    account_id = Api(d.server, "", zone_token).raw("GET", f"/zones/{zone_id}").json()[
        "result"]["account"]["id"]
    account_token = run_cli("token", "create", "--account", account_id,
                            data=d.data).stdout.strip()
    c = Checker(d, doc, zone_token, account_token, zone_id, account_id)
    hosts = "/zones/{zone_id}/custom_hostnames"

    c.call("GET", "/openapi.json", token=None)
    c.call("GET", "/zones")
    c.call("GET", "/zones/{zone_id}")
    c.call("GET", "/accounts/{account_id}", token="account")

    # Hostnames, with the fields a provider sets.
    c.call("PUT", hosts + "/fallback_origin", json={"origin": "origin.provider.com"})
    c.call("GET", hosts + "/fallback_origin")
    h = c.call("POST", hosts, json={
        "hostname": uniq("doc"), "ssl": {"method": "txt", "type": "dv"},
        "custom_metadata": {"customer": "7"}, "custom_origin_server": "o.provider.com"},
        expect=201)["result"]
    c.ids["custom_hostname_id"] = h["id"]
    c.call("GET", hosts, params={"per_page": 50})
    c.call("GET", hosts + "/{custom_hostname_id}")
    c.call("PATCH", hosts + "/{custom_hostname_id}",
           json={"ssl": {"method": "txt", "type": "dv",
                         "settings": {"min_tls_version": "1.2"}}}, expect=202)
    c.call("GET", hosts + "/quota")

    # An uploaded certificate, replaced, and the hostname's certificate deleted.
    name = uniq("docup")
    cert, key = pki.leaf([name], "ec")
    up = c.call("POST", hosts, json={"hostname": name, "ssl": {
        "custom_certificate": cert, "custom_key": key}}, expect=201)["result"]
    c.ids.update(custom_hostname_id=up["id"], certificate_pack_id=up["ssl"]["id"],
                 certificate_id=up["ssl"]["certificates"][0]["id"])
    cert2, key2 = pki.leaf([name], "ec")
    cert_path = hosts + ("/{custom_hostname_id}/certificate_pack/{certificate_pack_id}"
                         "/certificates/{certificate_id}")
    c.call("PUT", cert_path, json={"custom_certificate": cert2, "custom_key": key2})
    c.call("DELETE", hosts + "/{custom_hostname_id}")
    # A bundle (ECDSA and RSA) loses one of its two certificates.
    name = uniq("docbundle")
    (ec, ec_key), (rsa, rsa_key) = pki.leaf([name], "ec"), pki.leaf([name], "rsa")
    bundle = c.call("POST", hosts, expect=201, json={"hostname": name, "ssl": {
        "custom_cert_bundle": [{"custom_certificate": ec, "custom_key": ec_key},
                               {"custom_certificate": rsa, "custom_key": rsa_key}]}})["result"]
    c.ids.update(custom_hostname_id=bundle["id"], certificate_pack_id=bundle["ssl"]["id"],
                 certificate_id=bundle["ssl"]["certificates"][1]["id"])
    c.call("DELETE", cert_path)
    c.call("POST", hosts, json={"hostname": name, "ssl": {"method": "txt", "type": "dv"}},
           expect=409)  # an error answer, in the documented error envelope
    c.ids["custom_hostname_id"] = h["id"]
    c.call("DELETE", hosts + "/{custom_hostname_id}")
    c.call("DELETE", hosts + "/fallback_origin")
    c.call("GET", hosts + "/{custom_hostname_id}", expect=404)

    # CSRs, the zone's and the account's.
    for owner, token in (("/zones/{zone_id}", "zone"), ("/accounts/{account_id}", "account")):
        cn = uniq("csr")
        made = c.call("POST", owner + "/custom_csrs", token=token, expect=201, json=dict(
            CSR, common_name=cn, sans=[cn]))["result"]
        c.ids["custom_csr_id"] = made["id"]
        c.call("GET", owner + "/custom_csrs", token=token)
        c.call("GET", owner + "/custom_csrs/{custom_csr_id}", token=token)
        c.call("DELETE", owner + "/custom_csrs/{custom_csr_id}", token=token)

    # Notifications.
    alerting = "/accounts/{account_id}/alerting/v3"
    dest = c.call("POST", alerting + "/destinations/webhooks", token="account", expect=201,
                  json={"name": "hooks", "url": "https://hooks.provider.com/in",
                        "secret": "s"})["result"]
    c.ids["webhook_id"] = dest["id"]
    c.call("GET", alerting + "/destinations/webhooks", token="account")
    c.call("GET", alerting + "/destinations/webhooks/{webhook_id}", token="account")
    c.call("PUT", alerting + "/destinations/webhooks/{webhook_id}", token="account",
           json={"name": "hooks 2", "url": "https://hooks.provider.com/in2"})
    policy = {"name": "p", "enabled": True, "alert_type": "custom_ssl_certificate_event_type",
              "mechanisms": {"webhooks": [{"id": dest["id"]}]},
              "filters": {"zones": [zone_id]}}
    c.ids["policy_id"] = c.call("POST", alerting + "/policies", token="account",
                                json=policy)["result"]["id"]
    c.call("GET", alerting + "/policies", token="account")
    c.call("GET", alerting + "/policies/{policy_id}", token="account")
    c.call("PUT", alerting + "/policies/{policy_id}", token="account",
           json=dict(policy, enabled=False))
    c.call("GET", alerting + "/history", token="account")
    c.call("DELETE", alerting + "/policies/{policy_id}", token="account")
    c.call("DELETE", alerting + "/destinations/webhooks/{webhook_id}", token="account")
    c.call("POST", alerting + "/policies", token="account", json={"name": "x"}, expect=400)

    ops = {(p, m) for p, item in doc["paths"].items() for m in item
           if m in ("get", "post", "put", "patch", "delete")}
    assert ops - c.called == set(), f"documented but not exercised: {sorted(ops - c.called)}"
