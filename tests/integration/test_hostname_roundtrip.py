"""A custom hostname read, and sent back, stays as it was: what Terraform and the SDKs need for a
plan that settles (docs/api.md, "Get, edit, delete"). The second GET equals the first, a PATCH
of fields outside ssl starts no validation, a PATCH with the same ssl method still asks for a
recheck (Cloudflare's "send a PATCH request with the same values as your initial POST
request"), and ssl.settings are replaced by the ones sent, so that removing a setting in
Terraform removes it here.

The api role runs alone: no issuer moves a status or takes the hostname's job, so the job row
and the event log show exactly what each request did."""

import time

import pytest

from conftest import assert_ok, uniq
from pg import store_rows

FULL = {"ssl": {"method": "txt", "type": "dv", "bundle_method": "optimal",
                "settings": {"min_tls_version": "1.2", "http2": "on"}},
        "custom_metadata": {"customer_id": "12345"},
        "custom_origin_server": "origin.provider.com",
        "custom_origin_sni": "sni.provider.com"}


@pytest.fixture
def zone(deploy):
    d = deploy()
    creds = d.zone()
    d.start(roles="api")
    return d, d.api(creds)


def job(d, hid):
    """The hostname's issuer job: (id, run_at, attempts)."""
    rows = store_rows(d.data, "SELECT id, run_at, attempts FROM jobs WHERE subject_id = ? AND "
                      "kind = 'hostname'", hid)
    assert len(rows) == 1, rows
    return tuple(rows[0])


def events(d, hid):
    return [k for (k,) in store_rows(d.data, "SELECT kind FROM events WHERE subject_id = ? "
                                     "ORDER BY seq", hid)]


def test_second_get_equals_the_first_and_the_list(zone):
    _, api = zone
    h = api.create(uniq("rt"), **FULL)
    first = api.fetch(h["id"])
    second = api.fetch(h["id"])
    assert second == first
    assert [x for x in api.all() if x["id"] == h["id"]] == [first]
    # What was created is what is read: nothing appears or changes between the two.
    assert first == h


def test_the_object_read_and_sent_back_reads_the_same(zone):
    """Terraform v5 and cloudflare-go v0 send the whole object they read back in a PATCH."""
    _, api = zone
    h = api.create(uniq("back"), **FULL)
    before = api.fetch(h["id"])
    out = assert_ok(api.patch(h["id"], before), 202)["result"]
    assert out == before
    assert api.fetch(h["id"]) == before


@pytest.mark.parametrize("body", [
    {"custom_metadata": {"customer_id": "67890", "plan": "pro"}},
    {"custom_origin_server": "other-origin.provider.com"},
    {"custom_origin_sni": ":request_host_header:"},
    {"custom_metadata": None, "custom_origin_server": ""},
])
def test_patch_outside_ssl_starts_no_recheck(zone, body):
    d, api = zone
    h = api.create(uniq("meta"), **FULL)
    job_before, events_before = job(d, h["id"]), events(d, h["id"])
    time.sleep(0.01)  # a rescheduled job would show a later run_at

    out = assert_ok(api.patch(h["id"], body), 202)["result"]

    assert job(d, h["id"]) == job_before
    assert events(d, h["id"]) == events_before + ["hostname.updated"]
    assert out["ssl"] == h["ssl"]
    assert api.fetch(h["id"]) == out


def test_patch_with_the_same_ssl_method_rechecks(zone):
    d, api = zone
    h = api.create(uniq("recheck"), **FULL)
    job_before, events_before = job(d, h["id"]), events(d, h["id"])
    time.sleep(0.01)

    out = assert_ok(api.patch(h["id"], {"ssl": FULL["ssl"]}), 202)["result"]

    job_id, run_at, _ = job(d, h["id"])
    assert job_id == job_before[0] and run_at > job_before[1], (job_before, run_at)
    # A recheck of the same pack: no new pack, no restart.
    assert events(d, h["id"]) == events_before + ["hostname.updated"]
    assert out["ssl"]["id"] == h["ssl"]["id"] and out["ssl"] == h["ssl"]


def settings_after(api, hid, ssl):
    out = assert_ok(api.patch(hid, {"ssl": ssl}), 202)["result"]
    assert api.fetch(hid) == out
    return out["ssl"].get("settings")


def test_settings_are_replaced_not_merged(zone):
    """What Terraform v5 sends (its whole ssl object, without the settings taken out of the
    configuration) must leave exactly those settings."""
    _, api = zone
    hid = api.create(uniq("set"), **FULL)["id"]
    dv = {"method": "txt", "type": "dv"}

    assert settings_after(api, hid, {**dv, "settings": {"min_tls_version": "1.3"}}) == {
        "min_tls_version": "1.3"}
    assert settings_after(api, hid, {**dv, "settings": {"http2": "off", "tls_1_3": "on"}}) == {
        "http2": "off", "tls_1_3": "on"}
    # The settings block removed from the configuration: ssl comes without settings.
    assert settings_after(api, hid, dv) is None
    assert settings_after(api, hid, {**dv, "settings": {"early_hints": "on"}}) == {
        "early_hints": "on"}
    assert settings_after(api, hid, {**dv, "settings": {}}) is None


def test_settings_alone_replace_and_other_fields_alone_keep_them(zone):
    """saasedge's PATCH of ssl without a method: settings sent replace the stored ones; an ssl
    object without settings keeps them; "settings": null removes them."""
    _, api = zone
    hid = api.create(uniq("alone"), **FULL)["id"]

    assert settings_after(api, hid, {"settings": {"http2": "off"}}) == {"http2": "off"}
    assert settings_after(api, hid, {"bundle_method": "force"}) == {"http2": "off"}
    assert settings_after(api, hid, {"settings": None}) is None


def test_no_settings_given_means_none_shown(zone):
    _, api = zone
    h = api.create(uniq("none"), ssl={"method": "http", "type": "dv"})
    assert "settings" not in h["ssl"], h["ssl"]
    assert "settings" not in api.fetch(h["id"])["ssl"]
    assert all("settings" not in x["ssl"] for x in api.all() if x["id"] == h["id"])
