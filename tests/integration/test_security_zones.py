"""Issue 10, finding 6: one name must lead to one zone. A zone may not create a name that another
zone's wildcard covers, nor a wildcard over another zone's names (409, code 1406, nothing
written; docs/decisions/0020), even when the two creates race; and the HTTP listener answers an
ACME http-01 challenge only for the Host it was issued for."""

import threading
import time

import pytest

from pg import store_execute
from conftest import Deployment, assert_error, assert_ok, finish_servers, uniq
from edge_helpers import curl, edge_ports, split_status


@pytest.fixture(scope="module")
def zones(shared):
    """Two zones (two tenants) on the module's API-only server -> (Api of zone 1, of zone 2)."""
    return shared.new_api(), shared.new_api()


def wild_parent(label="wild"):
    return uniq(label)


def assert_conflict(r, *words):
    err = assert_error(r, 409, 1406)["errors"][0]
    assert err["message"].startswith("Duplicate custom hostname found"), err
    for w in words:
        assert w in err["message"], err
    return err


def test_name_under_another_zones_wildcard_is_refused(zones):
    one, two = zones
    parent = wild_parent()
    wildcard = one.create(f"*.{parent}", ssl={"method": "txt", "type": "dv"})
    before = two.count()
    for ssl in ({"method": "http", "type": "dv"}, {"method": "txt", "type": "dv"}, None):
        body = {"hostname": f"evil.{parent}"}
        if ssl:
            body["ssl"] = ssl
        assert_conflict(two.post(body), f"evil.{parent}", f"*.{parent}")
    # Nothing was written: not in zone 2's list, count unchanged, and the name is still free
    # for the wildcard's own zone.
    assert two.names(**{"hostname.exact": f"evil.{parent}"}) == []
    assert two.count() == before
    own = one.create(f"evil.{parent}", ssl={"method": "http", "type": "dv"})
    assert own["hostname"] == f"evil.{parent}"
    # The wildcard covers one label: the parent itself and names two levels down are not under
    # it (neither TLS nor the edge would match them to it).
    assert two.create(parent)["hostname"] == parent
    assert two.create(f"a.b.{parent}")["hostname"] == f"a.b.{parent}"
    # Once the wildcard is gone, the name is free for any zone.
    assert_ok(one.delete(wildcard["id"]))
    assert two.create(f"other.{parent}")["hostname"] == f"other.{parent}"


def test_wildcard_over_another_zones_names_is_refused(zones):
    one, two = zones
    parent = wild_parent("over")
    held = two.create(f"app.{parent}", ssl={"method": "http", "type": "dv"})
    before = one.count()
    assert_conflict(one.post({"hostname": f"*.{parent}", "ssl": {"method": "txt", "type": "dv"}}),
                    f"*.{parent}")
    assert one.names(**{"hostname.exact": f"*.{parent}"}) == []
    assert one.count() == before
    # The zone that holds the names may cover them with its own wildcard.
    assert two.create(f"*.{parent}", ssl={"method": "txt", "type": "dv"})["hostname"] == \
        f"*.{parent}"
    # A plain duplicate of a name is still the plain duplicate.
    err = assert_error(one.post({"hostname": f"app.{parent}"}), 409, 1406)["errors"][0]
    assert err["message"] == "Duplicate custom hostname found.", err
    assert_ok(two.delete(held["id"]))


def test_racing_creates_leave_one_owner(zones):
    """The wildcard of zone 1 and a name under it in zone 2, sent at the same moment: the check
    runs inside the insert's transaction, so exactly one of them is created, every round."""
    one, two = zones
    for _ in range(8):
        parent = wild_parent("race")
        results = {}
        go = threading.Barrier(2)

        def send(api, name, key, ssl):
            go.wait()
            results[key] = api.post({"hostname": name, "ssl": ssl})

        threads = [
            threading.Thread(target=send, args=(one, f"*.{parent}", "wild",
                                                {"method": "txt", "type": "dv"})),
            threading.Thread(target=send, args=(two, f"evil.{parent}", "name",
                                                {"method": "http", "type": "dv"})),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        codes = sorted(r.status_code for r in results.values())
        assert codes == [201, 409], {k: (r.status_code, r.text) for k, r in results.items()}
        loser = next(r for r in results.values() if r.status_code == 409)
        assert_conflict(loser)
        assert len(one.names(**{"hostname.exact": f"*.{parent}"}) +
                   two.names(**{"hostname.exact": f"evil.{parent}"})) == 1


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    root = tmp_path_factory.mktemp("security_zones_edge")
    d = Deployment(root)
    d.start(roles="api,edge", extra_args=["--edge.workers=1"])
    d.https, d.http = edge_ports(d.server)
    yield d
    finish_servers(d.servers)


def put_http01(data_dir, token, hostname, pack_id, response):
    """Writes an http-01 challenge row as the issuer would (store_challenge_put)."""
    store_execute(data_dir, "INSERT INTO challenges(kind, token, hostname, pack_id, response, "
                  "expires_at) VALUES ('http-01', ?, ?, ?, ?, ?)",
                  token, hostname, pack_id, response, int((time.time() + 600) * 1e6))


def test_http01_answered_only_for_its_hostname(edge):
    api = edge.new_api()
    name = uniq("acme")
    other = uniq("elsewhere")
    h = api.create(name, ssl={"method": "http", "type": "dv"})
    api.create(other, ssl={"method": "http", "type": "dv"})
    token = "tok" + uniq("t", "x").replace(".", "").replace("-", "")
    response = token + ".thumbprint-of-the-account-key"
    put_http01(edge.data, token, name, h["ssl"]["id"], response)
    path = f"/.well-known/acme-challenge/{token}"
    code, body = split_status(curl(edge.http, name, path, scheme="http"))
    assert code == 200 and body.decode() == response
    # Upper case and a trailing dot are the same name.
    code, body = split_status(curl(edge.http, name, path, "-H", f"Host: {name.upper()}.",
                                   scheme="http"))
    assert code == 200 and body.decode() == response
    # Another hostname of this edge, a name nobody registered (as a customer's wildcard DNS
    # would bring here), and the wildcard form of the name: 404, and never the key
    # authorization.
    for host in (other, uniq("stranger"), f"x.{name}"):
        code, body = split_status(curl(edge.http, host, path, scheme="http"))
        assert code == 404 and response.encode() not in body, (host, code, body)
    code, body = split_status(curl(edge.http, name, path, "-H", f"Host: *.{name}",
                                   scheme="http"))
    assert code in (400, 404) and response.encode() not in body, (code, body)
