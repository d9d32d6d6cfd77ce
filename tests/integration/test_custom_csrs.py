"""Custom CSRs (docs/api.md, "Custom CSRs"): saasedge makes the key and the CSR, the CSR verifies
with OpenSSL, the key never leaves, and each invalid field has its Cloudflare CSR code."""

import subprocess

import pytest

from conftest import TIME_RE, UUID_RE, assert_error, assert_ok, check_envelope, uniq

BASE = {
    "country": "US",
    "state": "MA",
    "locality": "Boston",
    "organization": "City of Boston",
    "organizational_unit": "Championship Parade Detail",
}


class Csrs:
    """The custom_csrs collection of one zone, remembering every response text."""

    def __init__(self, api):
        self.api = api
        self.path = f"/zones/{api.zone_id}/custom_csrs"
        self.texts = []

    def call(self, method, sub="", **kw):
        r = self.api.raw(method, self.path + sub, **kw)
        check_envelope(r)
        self.texts.append(r.text)
        return r

    def create(self, **fields):
        return assert_ok(self.call("POST", json=fields), 201)["result"]

    def count(self):
        return assert_ok(self.call("GET", params={"per_page": 5}))["result_info"]["total_count"]


@pytest.fixture
def csrs(api):
    return Csrs(api)


def body(**over):
    name = uniq("csr")
    b = dict(BASE, common_name=name, sans=[name, "www." + name])
    b.update(over)
    return {k: v for k, v in b.items() if v is not None}


def openssl_req_text(pem, tmp_path):
    path = tmp_path / "req.pem"
    path.write_text(pem)
    r = subprocess.run(["openssl", "req", "-in", str(path), "-verify", "-noout", "-text"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout + r.stderr


@pytest.mark.parametrize("key_type", [None, "rsa2048", "p256v1"])
def test_create_csr_verifies_with_openssl(csrs, tmp_path, key_type):
    b = body(key_type=key_type, name="parade", description="for the customer's CA")
    csr = csrs.create(**b)
    assert UUID_RE.match(csr["id"]), csr
    assert TIME_RE.match(csr["created_at"]), csr
    want_type = key_type or "rsa2048"
    assert csr["key_type"] == want_type
    for k in ("country", "state", "locality", "organization", "organizational_unit",
              "common_name", "sans", "name", "description"):
        assert csr[k] == b[k], (k, csr)
    assert csr["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----\n"), csr["csr"]
    text = openssl_req_text(csr["csr"], tmp_path)
    assert "verify OK" in text or "Certificate request self-signature verify OK" in text, text
    subject = [l for l in text.splitlines() if "Subject:" in l][0]
    for part in ("C = US", "ST = MA", "L = Boston", "O = City of Boston",
                 "OU = Championship Parade Detail", f"CN = {b['common_name']}"):
        assert part in subject, (part, subject)
    for san in b["sans"]:
        assert f"DNS:{san}" in text, (san, text)
    if want_type == "rsa2048":
        assert "Public-Key: (2048 bit)" in text and "rsaEncryption" in text, text
    else:
        assert "prime256v1" in text or "P-256" in text, text
    got = assert_ok(csrs.call("GET", f"/{csr['id']}"))["result"]
    assert got == csr
    assert "PRIVATE KEY" not in "".join(csrs.texts)


def test_country_is_upper_cased_and_cn_outside_sans_is_kept(csrs, tmp_path):
    name = uniq("cn")
    csr = csrs.create(**body(country="de", common_name=name, sans=["other." + name]))
    assert csr["country"] == "de"  # answered as sent; the CSR's subject has it upper case
    assert csr["sans"] == ["other." + name]
    text = openssl_req_text(csr["csr"], tmp_path)
    assert "C = DE" in text, text
    # The CN rides in the SAN extension too: CAs issue for SANs, not for the CN.
    assert f"DNS:{name}" in text and f"DNS:other.{name}" in text, text


def test_fields_answered_as_sent_and_unset_unit_left_out(csrs, tmp_path):
    """Terraform compares what it reads with its configuration: a case changed or an
    organizational_unit of "" when none was given would replace the CSR on every apply."""
    name = uniq("case")
    sent = {k: v for k, v in body(country="gB", common_name=name.upper(),
                                  sans=[name.upper(), "Www." + name, name]).items()
            if k != "organizational_unit"}
    csr = csrs.create(**sent)
    for k in ("country", "common_name", "sans", "state", "locality", "organization"):
        assert csr[k] == sent[k], (k, csr)
    assert "organizational_unit" not in csr, csr
    got = assert_ok(csrs.call("GET", f"/{csr['id']}"))["result"]
    assert got == csr
    listed = [c for c in assert_ok(csrs.call("GET", params={"per_page": 50}))["result"]
              if c["id"] == csr["id"]]
    assert listed == [csr]
    # The CSR itself carries the names normalised, once each.
    text = openssl_req_text(csr["csr"], tmp_path)
    subject = [line for line in text.splitlines() if "Subject:" in line][0]
    assert "C = GB" in subject and f"CN = {name}" in subject and "OU" not in subject, subject
    assert text.count(f"DNS:{name}") == 1 and f"DNS:www.{name}" in text, text


@pytest.mark.parametrize("over,status,code", [
    ({"country": None}, 400, 1405),
    ({"country": "XX"}, 400, 1405),
    ({"country": "USA"}, 400, 1405),
    ({"state": None}, 400, 1406),
    ({"state": ""}, 400, 1406),
    ({"locality": None}, 400, 1407),
    ({"organization": None}, 400, 1408),
    ({"organization": "o" * 65}, 400, 1408),
    ({"common_name": None}, 400, 1409),
    ({"common_name": "a" * 61 + ".com"}, 400, 1410),
    ({"sans": None}, 400, 1411),
    ({"sans": []}, 400, 1411),
    ({"sans": [".".join(["a" * 63] * 4) + ".com"]}, 400, 1412),
    ({"sans": ["bad name.com"]}, 400, 1412),
    ({"sans": ["xn--a.com"]}, 400, 1413),
    ({"sans": ["shop.test"]}, 400, 1414),
    ({"sans": ["com"]}, 400, 1415),
    ({"sans": ["www.example.com"]}, 400, 1416),
    ({"key_type": "rsa4096"}, 400, 1417),
    ({"key_type": 1}, 400, 1417),
])
def test_invalid_fields_have_their_codes_and_store_nothing(csrs, over, status, code):
    before = csrs.count()
    assert_error(csrs.call("POST", json=body(**over)), status, code)
    assert csrs.count() == before


def test_bad_json_id_and_not_found(csrs):
    assert_error(csrs.call("POST", data="{", headers={"Content-Type": "application/json"}),
                 400, 1400)
    assert_error(csrs.call("GET", "/not-a-uuid"), 400, 1418)
    assert_error(csrs.call("DELETE", "/not-a-uuid"), 400, 1418)
    missing = "7b163417-1d2b-4c84-a38a-2fb7a0cd7752"
    assert_error(csrs.call("GET", f"/{missing}"), 404, 1419)
    assert_error(csrs.call("DELETE", f"/{missing}"), 404, 1419)


def test_list_paginates_and_delete(csrs):
    made = [csrs.create(**body(key_type="p256v1"))["id"] for _ in range(6)]
    page1 = assert_ok(csrs.call("GET", params={"per_page": 5}))
    assert [c["id"] for c in page1["result"]] == made[:5]
    info = page1["result_info"]
    assert (info["page"], info["per_page"], info["count"], info["total_count"],
            info["total_pages"]) == (1, 5, 5, 6, 2), info
    page2 = assert_ok(csrs.call("GET", params={"per_page": 5, "page": 2}))
    assert [c["id"] for c in page2["result"]] == made[5:]
    past = assert_ok(csrs.call("GET", params={"per_page": 5, "page": 3}))
    assert past["result"] == []
    desc = assert_ok(csrs.call("GET", params={"per_page": 5, "direction": "desc"}))
    assert [c["id"] for c in desc["result"]] == made[::-1][:5]
    gone = assert_ok(csrs.call("DELETE", f"/{made[0]}"))
    assert gone["result"] == {"id": made[0]}
    assert_error(csrs.call("GET", f"/{made[0]}"), 404, 1419)
    assert csrs.count() == 5


def test_csrs_are_per_zone(shared):
    a, b = Csrs(shared.new_api()), Csrs(shared.new_api())
    csr = a.create(**body(key_type="p256v1"))
    assert_error(b.call("GET", f"/{csr['id']}"), 404, 1419)
    assert_error(b.call("DELETE", f"/{csr['id']}"), 404, 1419)
    assert b.count() == 0
    r = b.api.raw("GET", f"/zones/{a.api.zone_id}/custom_csrs")
    assert r.status_code == 403, r.text


def test_no_private_key_in_responses_or_logs(shared, csrs):
    for kt in ("rsa2048", "p256v1"):
        csrs.create(**body(key_type=kt))
    csrs.call("GET")
    everything = "".join(csrs.texts) + shared.server.stderr() + shared.server.stdout()
    assert "PRIVATE KEY" not in everything
