"""Concurrent requests: uniqueness holds under races and nothing acknowledged is lost."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import Api, assert_ok, check_envelope, uniq

THREADS = 8


@pytest.mark.parametrize("n_zones", [1, 2], ids=["one-zone", "two-zones"])
def test_racing_creates_of_one_name(shared, n_zones):
    zones = [shared.zone() for _ in range(n_zones)]
    name = uniq("race")

    def attempt(i):
        creds = zones[i % n_zones]  # the name is unique across the installation
        r = Api(shared.server, creds.zone_id, creds.token).post({"hostname": name})
        check_envelope(r)
        return r.status_code

    with ThreadPoolExecutor(THREADS) as pool:
        codes = list(pool.map(attempt, range(THREADS * 2)))
    assert sorted(codes) == [201] + [409] * (THREADS * 2 - 1), codes
    found = sum(len(shared.api(z).names(hostname=name)) for z in zones)
    assert found == 1


def test_parallel_creates_all_land(shared):
    api = shared.new_api()
    names = [uniq(f"par{i}") for i in range(80)]

    def create(name):
        # One session per call: requests.Session is not meant to be shared across threads.
        return assert_ok(Api(api.server, api.zone_id, api.token).post({"hostname": name}), 201)

    with ThreadPoolExecutor(THREADS) as pool:
        made = [b["result"] for b in pool.map(create, names)]
    assert sorted(api.names()) == sorted(names)
    assert len({h["id"] for h in made}) == 80
    assert api.page(per_page=5)["result_info"]["total_count"] == 80
    assert api.quota()["used"] == 80
