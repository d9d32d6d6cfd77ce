"""`saasedge cert import` stores an upload, through the store function the API's
custom_certificate uses: on a server running every role, a hostname it creates is served at
once, reaches ssl.status active without a visitor, keeps both key types when they come in two
imports, and the issuer leaves it alone (it used to take the import for a pack to issue)."""

import time

import pytest

from conftest import free_port, uniq, wait_until
from edge_helpers import TestCA, import_cert, s_client, wait_served
from issuance_helpers import start_issuer_with_edge
from peers import ChallTestSrv

RSA_12 = ("-sigalgs", "RSA+SHA256", "-tls1_2")


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    srv = ChallTestSrv(tmp_path_factory.mktemp("dns"))
    yield srv
    srv.stop()


def only_hostname(api, name):
    result = api.page(hostname=name)["result"]
    assert len(result) == 1, result
    return result[0]


def test_import_on_every_role_is_served_and_left_to_the_operator(deploy, dns, tmp_path):
    d = deploy()
    creds = d.zone()
    https = free_port()
    # the internal CA: the issuer could issue for any name
    start_issuer_with_edge(d, dns, https_port=https)
    api = d.api(creds)
    ca = TestCA(tmp_path / "ca")
    name = uniq("imported")
    ec_chain, ec_key, ec_serial = ca.leaf([name], "ec")
    rsa_chain, rsa_key, rsa_serial = ca.leaf([name], "rsa")

    import_cert(d.data, name, ec_chain, ec_key, zone=creds.zone_id)
    # Active within a second, before any visitor: the edges' change feed deploys it.
    start = time.monotonic()
    h = wait_until(lambda: (lambda h: h if h["ssl"]["status"] == "active" else None)(
        only_hostname(api, name)), 5, "ssl.status active", interval=0.05)
    assert time.monotonic() - start < 1.5, time.monotonic() - start
    assert h["status"] == "active", h
    assert "method" not in h["ssl"] and "uploaded_on" in h["ssl"], h["ssl"]
    wait_served(https, name, ec_serial, 5)

    # The RSA certificate in a second import joins the ECDSA one.
    import_cert(d.data, name, rsa_chain, rsa_key)
    wait_served(https, name, rsa_serial, 5, *RSA_12)
    ok, serial, out = s_client(https, name)
    assert ok and serial == ec_serial, out
    h = only_hostname(api, name)
    serials = {int(c["serial_number"]) for c in h["ssl"]["certificates"]}
    assert serials == {int(ec_serial, 16), int(rsa_serial, 16)}, h["ssl"]

    # The issuer never takes it over: no records to show, no validation, served all along.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        h = only_hostname(api, name)
        assert h["ssl"]["status"] == "active", h["ssl"]
        assert not h["ssl"].get("validation_records"), h["ssl"]
        time.sleep(0.2)
    ok, serial, out = s_client(https, name)
    assert ok and serial == ec_serial, out


def test_import_of_an_unknown_name_without_zone_changes_nothing(deploy, tmp_path):
    d = deploy()
    creds = d.zone()
    d.start()
    ca = TestCA(tmp_path / "ca")
    name = uniq("nozone")
    chain, key, _ = ca.leaf([name], "ec")
    p = import_cert(d.data, name, chain, key, check=False)
    assert p.returncode != 0
    assert "create it first, or give --zone" in p.stderr, p.stderr
    assert d.api(creds).page(hostname=name)["result"] == []
