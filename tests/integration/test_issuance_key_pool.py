"""The issuer's RSA key pool (keys made ahead while the issuer is idle, claimed by new packs) and
the edge's deployment of new certificates: a pack becomes active as soon as the edge has loaded
it, before any visitor's handshake."""

import os

import pytest

from pg import POSTGRES, store_rows, store_url
from conftest import uniq, wait_until
from issuance_helpers import (create_ssl, start_issuer_with_edge, stored_certificates,
                              wait_status)
from peers import ChallTestSrv, edge_http_key

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat,
                                                          load_der_private_key)


def pool_keys(data_dir):
    return store_rows(data_dir, "SELECT id, key_type, sealed FROM private_keys WHERE "
                      "owner_id = 'pool'")


def pack_key_ids(data_dir, pack_id):
    return {t: k for t, k in store_rows(
        data_dir, "SELECT key_type, private_key_id FROM certificates WHERE pack_id = ?",
        pack_id)}


def rsa_public_key(leaf_der):
    cert = x509.load_der_x509_certificate(leaf_der)
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture
def edge_dns(tmp_path):
    if not edge_http_key():
        pytest.skip("this build has no edge (edge.http_listen) to answer http-01")
    dns = ChallTestSrv(tmp_path)  # every name: A 127.0.0.1, where the edge listens
    yield dns
    dns.stop()


def start(d, dns, pool):
    start_issuer_with_edge(d, dns, ["--issuance.default_ca", "internal", "--issuer.key_pool",
                                    str(pool), "--log.level", "info"])


def test_pooled_rsa_keys_are_claimed_once_and_refilled(deploy, edge_dns):
    d = deploy()
    creds = d.zone()
    start(d, edge_dns, pool=3)
    # Every filler (one per core, at most the pool's size) has seen the pool full: none is
    # still making a key that would land during the burst below.
    fillers = min(os.cpu_count(), 8, 3)
    wait_until(lambda: d.server.stderr().count("key pool full") >= fillers, 120,
               "every filler to see the key pool full")
    pooled = {row[0] for row in pool_keys(d.data)}
    assert len(pooled) == 3  # one node fills the pool to its size, no more
    assert {row[1] for row in pool_keys(d.data)} == {"rsa"}
    for _, _, sealed in pool_keys(d.data):
        assert b"PRIVATE KEY" not in sealed  # sealed at rest, never PEM or bare DER
        with pytest.raises(ValueError):
            load_der_private_key(sealed, None)

    api = d.api(creds)
    hosts = [create_ssl(api, uniq("pool"), "http") for _ in range(2)]
    done = [wait_status(api, h["id"], ("active",)) for h in hosts]

    rsa_keys, rsa_publics = set(), set()
    for h in done:
        ids = pack_key_ids(d.data, h["ssl"]["id"])
        assert set(ids) == {"ecdsa", "rsa"}
        rsa_keys.add(ids["rsa"])
        certs = stored_certificates(d.data, h["ssl"]["id"])
        rsa_publics.add(rsa_public_key(certs["rsa"][0]))
    # Each pack took its own pooled key: none shared, none left in the pool.
    assert len(rsa_keys) == 2 and len(rsa_publics) == 2
    assert rsa_keys <= pooled
    assert not rsa_keys & {row[0] for row in pool_keys(d.data)}
    # The pool is topped up again once the issuer is idle: not during the burst, whose last
    # step (the move to pending_deployment) ended before any new key was begun. On a node with
    # a CPU quota a refill during the burst would slow the burst down (decisions/0015).
    wait_until(lambda: len(pool_keys(d.data)) >= 3, 120, "the key pool to refill")
    burst_end = max(at for (at,) in store_rows(
        d.data, "SELECT created_at FROM events WHERE new_status = 'pending_deployment'"))
    refilled = [at for key_id, at in store_rows(
        d.data, "SELECT id, created_at FROM private_keys WHERE owner_id = 'pool'")
        if key_id not in pooled]
    assert refilled and min(refilled) - burst_end >= 1000000, (burst_end, refilled)
    before = {row[0] for row in pool_keys(d.data)}
    d.server.restart()
    assert before <= {row[0] for row in pool_keys(d.data)}


def test_an_empty_pool_still_issues_and_a_new_pack_is_active_without_a_visitor(deploy, edge_dns):
    d = deploy()
    creds = d.zone()
    start(d, edge_dns, pool=0)
    api = d.api(creds)
    h = create_ssl(api, uniq("nopool"), "http")
    # No handshake is made here: the edge's change feed loads the new pack and activates it.
    h = wait_status(api, h["id"], ("active",))
    assert set(pack_key_ids(d.data, h["ssl"]["id"])) == {"ecdsa", "rsa"}
    assert pool_keys(d.data) == []
    assert "certificates deployed on every live edge" in d.server.stderr()


@pytest.mark.skipif(not POSTGRES, reason="row locks: SQLite runs one writer at a time")
def test_a_key_another_node_is_claiming_is_left_to_it(deploy, edge_dns):
    """Claims of several issuer nodes run at once on PostgreSQL. Here another node's claim of
    the only pooled key is in flight (its UPDATE holds the row, not yet committed) when this
    issuer needs a key: it must neither wait for that claim nor take the key once it commits,
    which would give two customers' certificates one private key."""
    import psycopg2

    d = deploy()
    creds = d.zone()
    start(d, edge_dns, pool=1)
    wait_until(lambda: "key pool full" in d.server.stderr(), 120, "the key pool to fill")
    [(key_id, _, _)] = pool_keys(d.data)
    url = store_url(d.data)
    other = psycopg2.connect(url)
    watcher = psycopg2.connect(url)
    watcher.autocommit = True
    try:
        with other.cursor() as cur:
            cur.execute("UPDATE private_keys SET owner_id = 'other-node-pack' WHERE id = %s",
                        (key_id,))
        api = d.api(creds)
        h = create_ssl(api, uniq("claim"), "http")

        def waiting():  # sessions held up by the other node's uncommitted claim
            with watcher.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity "
                            "WHERE %s = ANY(pg_blocking_pids(pid))", (other.get_backend_pid(),))
                return cur.fetchone()[0]

        seen_waiting = []

        def active_or_stuck():
            if waiting():
                seen_waiting.append(True)
                return True
            return api.fetch(h["id"])["ssl"]["status"] == "active"

        wait_until(active_or_stuck, 120, "the hostname active, or a claim waiting")
        other.commit()
        h = wait_status(api, h["id"], ("active",))
    finally:
        other.close()
        watcher.close()
    assert pack_key_ids(d.data, h["ssl"]["id"])["rsa"] != key_id
    assert store_rows(d.data, "SELECT owner_id FROM private_keys WHERE id = ?", key_id) == \
        [("other-node-pack",)]
    assert not seen_waiting, "a claim waited for another node's claim of the same key"
