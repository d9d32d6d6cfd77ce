"""What the API acknowledged survives a crash (kill -9) and a restart on the same data dir."""

import uuid

from conftest import assert_ok, stable, uniq

METHODS = ["http", "txt", "email", "cname"]


def test_acknowledged_creates_survive_kill9(deploy):
    d = deploy()
    creds = d.zone()
    d.start()
    api = d.api(creds)
    made = []
    for i in range(50):
        fields = {}
        if i % 3:
            fields["ssl"] = {"method": METHODS[i % 4], "type": "dv",
                             "settings": {"min_tls_version": "1.2"}}
        if i % 5 == 0:
            fields["custom_metadata"] = {"n": str(i), "k": uuid.uuid4().hex}
        if i % 7 == 0:
            fields["custom_origin_server"] = f"origin-{i}.provider.com"
        made.append(api.create(uniq(f"durable{i}"), **fields))  # each acknowledged with 201
    assert_ok(api.fallback("PUT", {"origin": "fallback.provider.com"}))

    d.server.restart(kill=True)

    listed = api.all()
    assert len(listed) == 50, f"{len(listed)} hostnames after restart, 50 were acknowledged"
    assert len({h["id"] for h in listed}) == 50 and len({h["hostname"] for h in listed}) == 50
    by_id = {h["id"]: h for h in listed}
    for h in made:
        assert h["id"] in by_id, f"lost {h['hostname']}"
        assert stable(by_id[h["id"]]) == stable(h)
    assert [h["id"] for h in listed] == [h["id"] for h in made]  # creation order too
    assert api.page(per_page=5)["result_info"]["total_count"] == 50
    assert api.quota()["used"] == 50
    assert assert_ok(api.fallback("GET"))["result"]["origin"] == "fallback.provider.com"
    # The names are still taken.
    assert api.post({"hostname": made[0]["hostname"]}).status_code == 409


def test_acknowledged_edit_and_delete_survive_kill9(deploy):
    d = deploy()
    creds = d.zone()
    d.start()
    api = d.api(creds)
    edited = api.create(uniq("edited"), ssl={"method": "http", "type": "dv"},
                        custom_metadata={"v": "1"})
    gone = api.create(uniq("gone"))
    out = api.edit(edited["id"], {"custom_metadata": {"v": "2"},
                                  "custom_origin_server": "patched.provider.com",
                                  "ssl": {"method": "txt", "type": "dv"}})
    assert out["custom_metadata"] == {"v": "2"}
    assert api.delete(gone["id"]).status_code == 200

    d.server.restart(kill=True)

    got = api.fetch(edited["id"])
    assert got["custom_metadata"] == {"v": "2"}
    assert got["custom_origin_server"] == "patched.provider.com"
    assert got["ssl"]["method"] == "txt"
    assert stable(got) == stable(out)
    assert api.get(gone["id"]).status_code == 404
    assert [h["id"] for h in api.all()] == [edited["id"]]


def test_clean_restart_keeps_everything(deploy):
    d = deploy()
    creds = d.zone(email="ops@provider.com")
    d.start()
    api = d.api(creds)
    made = [api.create(uniq("clean"), ssl={"method": "txt", "type": "dv"}) for _ in range(5)]
    d.server.restart()  # SIGTERM: must exit 0 (checked at teardown) and come back
    assert [stable(h) for h in api.all()] == [stable(h) for h in made]
    # Tokens survive too, in both forms.
    legacy = d.api(creds)
    legacy.session.headers.pop("Authorization")
    legacy.session.headers.update({"X-Auth-Key": creds.token, "X-Auth-Email": creds.email})
    assert len(assert_ok(legacy.list())["result"]) == 5
