"""Issue 10, finding 7: failed authentication is limited per client address. After
api.auth_fail_limit failures within api.auth_fail_window seconds an address gets 429 (code 971,
Retry-After) for every request, a correct token included, until the window ends; other
addresses and successful requests are never affected (docs/api.md, "Authentication")."""

import http.client
import json
import time

import pytest
import requests

from conftest import assert_error, assert_ok, check_envelope, run_cli, wait_until


def bad_bearer(token):
    """A token of the right length and alphabet that was never issued."""
    return token[::-1]


def from_address(server, source, token, path):
    """GET PATH with TOKEN from source address SOURCE (another loopback address) -> (status,
    body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30,
                                      source_address=(source, 0))
    try:
        conn.request("GET", "/client/v4" + path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def session_for(token):
    s = requests.Session()  # one keep-alive connection
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def test_bad_tokens_end_in_429_for_that_address_only(deploy):
    d = deploy()
    creds = d.zone()
    d.start()  # the defaults: 60 failures per 60 s
    api = d.api(creds)
    url = api.base + api.zone_path
    bad = session_for(bad_bearer(creds.token))
    codes = []
    for _ in range(400):
        r = bad.get(url, timeout=30)
        check_envelope(r)
        codes.append((r.status_code, r.json()["errors"][0]["code"]))
        if r.status_code == 429:
            assert r.json()["errors"][0]["message"] == \
                "Please wait and consider throttling your request speed"
            assert 1 <= int(r.headers["Retry-After"]) <= 60, r.headers
    assert codes[:60] == [(403, 9109)] * 60, codes[:70]
    assert codes[60:] == [(429, 971)] * 340, sorted(set(codes[60:]))
    # The right token from the same address is refused too, until the window ends.
    good = session_for(creds.token)
    r = good.get(url, timeout=30)
    assert_error(r, 429, 971)
    assert int(r.headers["Retry-After"]) >= 1
    # Another address with the right token is served as if nothing happened.
    status, body = from_address(d.server, "127.0.0.2", creds.token, api.zone_path)
    assert status == 200 and body["success"] is True, body
    assert "authentication failures over the limit" in d.server.stderr()


def test_refusal_ends_when_the_window_passes(deploy):
    d = deploy()
    creds = d.zone()
    d.start(extra_args=["--api.auth_fail_limit=5", "--api.auth_fail_window=3"])
    api = d.api(creds)
    url = api.base + api.zone_path
    bad = session_for(bad_bearer(creds.token))
    start = time.monotonic()
    codes = [bad.get(url, timeout=30).status_code for _ in range(6)]
    good = session_for(creds.token)
    r = good.get(url, timeout=30)
    if time.monotonic() - start < 3:  # still inside the window (not a slow machine's pause)
        assert codes == [403] * 5 + [429], codes
        assert_error(r, 429, 971)
        assert 1 <= int(r.headers["Retry-After"]) <= 3

    def served():
        r = good.get(url, timeout=30)
        return r if r.status_code == 200 else None

    assert_ok(wait_until(served, 15, "the window to end", interval=0.2))
    # A new window: the limit applies afresh.
    assert [bad.get(url, timeout=30).status_code for _ in range(5)] == [403] * 5


def test_every_kind_of_bad_credential_counts_but_not_a_wrong_zone(deploy):
    d = deploy()
    a, b = d.zone(email="ops@provider.com"), d.zone()
    d.start(extra_args=["--api.auth_fail_limit=4", "--api.auth_fail_window=60"])
    api = d.api(a)
    url = api.base + api.zone_path
    # A valid token on another zone is refused (10000) but proves the caller holds a token:
    # not a guess, not counted.
    wrong_zone = session_for(b.token)
    for _ in range(10):
        assert_error(wrong_zone.get(url, timeout=30), 403, 10000)
    assert_ok(session_for(a.token).get(url, timeout=30))
    tries = [
        ({}, 400, 9106),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 400, 6003),
        ({"X-Auth-Key": a.token, "X-Auth-Email": "other@provider.com"}, 403, 9103),
        ({"X-Auth-Key": "short", "X-Auth-Email": a.email}, 400, 6003),
    ]
    for headers, status, code in tries:
        assert_error(requests.get(url, headers=headers, timeout=30), status, code)
    assert_error(requests.get(url, headers={"X-Auth-Key": a.token, "X-Auth-Email": a.email},
                              timeout=30), 429, 971)


def test_successes_are_never_counted_and_zero_turns_it_off(deploy):
    d = deploy()
    creds = d.zone()
    d.start(extra_args=["--api.auth_fail_limit=0"])
    api = d.api(creds)
    url = api.base + api.zone_path
    bad = session_for(bad_bearer(creds.token))
    assert {bad.get(url, timeout=30).status_code for _ in range(100)} == {403}
    good = session_for(creds.token)
    assert {good.get(url, timeout=30).status_code for _ in range(100)} == {200}


@pytest.mark.parametrize("key, value", [("api.auth_fail_limit", "-1"),
                                        ("api.auth_fail_limit", "100001"),
                                        ("api.auth_fail_limit", "abc"),
                                        ("api.auth_fail_window", "0")])
def test_settings_out_of_bounds_are_refused(tmp_path, key, value):
    p = run_cli("serve", "--data", tmp_path / "data", f"--{key}={value}",
                "--api.listen=127.0.0.1:1", check=False, timeout=30)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert key in p.stderr, p.stderr
