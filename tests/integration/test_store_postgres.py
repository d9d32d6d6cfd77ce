"""The store on PostgreSQL (issue 12), whatever backend the rest of the suite runs on: each test
starts a cluster of its own, since some stop it. Nodes are separate processes with their own
data directories that share one database and one master key, as on separate machines."""

import os
import re
import signal
import stat
import subprocess
import threading
import time

import pytest

from conftest import (Api, Server, check_envelope, finish_servers, port_answers, run_cli, uniq,
                      wait_until)
from edge_helpers import TestCA, edge_ports, s_client, wait_served
from issuance_helpers import create_ssl, drive_txt, verify_chain, wait_records
from peers import ChallTestSrv
from pg import POSTGRES, Cluster

# Each test starts a PostgreSQL cluster of its own, whatever backend the rest of the suite uses:
# the run with the store on PostgreSQL (make integration-postgres) would only repeat them.
pytestmark = pytest.mark.skipif(POSTGRES, reason="runs its own cluster in the other runs")


def start_cluster(tmp_path):
    cluster = Cluster()
    cluster.start()
    cluster.psql("postgres", "CREATE DATABASE fleet")
    return cluster, cluster.url("fleet")


def cli(url, data, *args):
    """A CLI command against the database at URL; DATA is the node's own directory."""
    return run_cli(*args, "--data", data, f"--store.url={url}").stdout.strip()


def zone_and_token(url, data, label):
    """A new zone and a token for it, made by the CLI through the node directory DATA."""
    zone_id = cli(url, data, "zone", "create", uniq(label, "provider.com"))
    return zone_id, cli(url, data, "token", "create", "--zone", zone_id)


def node(tmp_path, name, url, key, roles, wait=True, extra=()):
    data = tmp_path / name
    s = Server(data, tmp_path / "logs", roles=roles,
               extra_args=[f"--store.url={url}", f"--store.master_key={key}", *extra])
    return s.start(wait=wait)


def import_and_serve(tmp_path, url, data, key, zone_id, edge):
    """`cert import` of a new name through the node whose directory is DATA, then waits until
    EDGE serves it. -> (edge https port, name, serial)."""
    name = uniq("imported")
    chain, pkey, serial = TestCA(tmp_path / f"ca-{name}").leaf([name], "ec")
    cli(url, data, "cert", "import", "--hostname", name, "--cert", chain, "--key", pkey,
        "--zone", zone_id, f"--store.master_key={key}")
    https, _ = edge_ports(edge)
    wait_served(https, name, serial, 10)
    return https, name, serial


def api_for(server, zone_id, token):
    return Api(server, zone_id, token)


def test_migrate_then_nodes_share_one_database(tmp_path):
    cluster, url = start_cluster(tmp_path)
    key = tmp_path / "master.key"
    servers = []
    try:
        # The schema is made once; running it again changes nothing.
        first = cli(url, tmp_path / "a", "store", "migrate")
        assert re.fullmatch(r"postgres schema \d+", first), first
        assert cli(url, tmp_path / "b", "store", "migrate") == first
        tables = cluster.psql("fleet", "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                       "'public'").strip()
        assert int(tables) >= 18

        zone_id = cli(url, tmp_path / "a", "zone", "create", uniq("fleet", "provider.com"))
        token = cli(url, tmp_path / "b", "token", "create", "--zone", zone_id)
        a = node(tmp_path, "a", url, key, "api,edge")
        b = node(tmp_path, "b", url, key, "api")
        servers += [a, b]
        api_a, api_b = api_for(a, zone_id, token), api_for(b, zone_id, token)

        # What one node's API acknowledges, the other's answers at once: one store.
        made = [api_a.create(uniq(f"n{i}"), ssl={"method": "http", "type": "dv"})
                for i in range(5)]
        assert [h["id"] for h in api_b.all()] == [h["id"] for h in made]
        assert api_b.get(made[0]["id"]).status_code == 200
        assert api_b.delete(made[0]["id"]).status_code == 200
        assert api_a.get(made[0]["id"]).status_code == 404
        assert api_a.quota()["used"] == 4
        # Names are unique across the nodes too.
        assert api_b.post({"hostname": made[1]["hostname"]}).status_code == 409

        # A certificate imported on one node (sealed with the shared key) is served by
        # another node's edge.
        import_and_serve(tmp_path, url, tmp_path / "b", key, zone_id, a)
    finally:
        finish_servers(servers)
        cluster.stop()


def test_every_change_notifies_the_edges(tmp_path):
    """A commit that appends events sends NOTIFY saasedge_events (so edges wake at once rather
    than at their next poll), and an edge listens for it."""
    import psycopg2

    cluster, url = start_cluster(tmp_path)
    key = tmp_path / "master.key"
    servers = []
    listener = None
    try:
        zone_id, token = zone_and_token(url, tmp_path / "a", "notify")
        a = node(tmp_path, "a", url, key, "api,edge")
        servers.append(a)
        wait_until(lambda: "store op=listen backend=postgres channel=saasedge_events"
                   in a.stderr(), 10, "the edge to listen for changes")
        listener = psycopg2.connect(url)
        listener.autocommit = True
        with listener.cursor() as cur:
            cur.execute("LISTEN saasedge_events")
        api_for(a, zone_id, token).create(uniq("woken"))

        def notified():
            listener.poll()
            return any(n.channel == "saasedge_events" for n in listener.notifies)

        wait_until(notified, 5, "a notification of the new hostname's events")
    finally:
        if listener:
            listener.close()
        finish_servers(servers)
        cluster.stop()


def test_edge_only_node_has_no_api(tmp_path):
    cluster, url = start_cluster(tmp_path)
    key = tmp_path / "master.key"
    s = node(tmp_path, "edge", url, key, "edge", wait=False)
    try:
        https, http = edge_ports(s)
        assert port_answers(https) and port_answers(http)
        assert not port_answers(s.port), "an edge-only node listens on the API port"
        # The start-up line comes once every role is up, a moment after the edge's listeners
        # answer (seen missing under ASan when read at once).
        wait_until(lambda: "roles=edge api=off" in s.stderr(), 10, "the start-up line")
    finally:
        finish_servers([s])
        cluster.stop()


WRITE_LOCK = 5361617345646765  # the store's write lock (src/store/store_postgres.c)


def test_a_node_hung_in_a_write_holds_the_fleet_for_seconds_only(tmp_path):
    """Every write takes the fleet's one write lock (decision 0026). Node A is made to stop
    (SIGSTOP: a hung process, a paused machine) while its session holds that lock in the middle
    of a write: the test holds the lock first, so A's create waits on it, stops A, and lets go.
    A node starting then must not wait for the lock, and node B's writes go through once the
    server has ended A's idle session (idle_in_transaction_session_timeout, 10 s, set on every
    connection), instead of waiting for as long as A hangs."""
    import psycopg2

    cluster, url = start_cluster(tmp_path)
    key = tmp_path / "master.key"
    servers, holder = [], psycopg2.connect(url)
    try:
        zone_id, token = zone_and_token(url, tmp_path / "a", "hung")
        a = node(tmp_path, "a", url, key, "api")
        b = node(tmp_path, "b", url, key, "api")
        servers += [a, b]
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        api_a = api_for(a, zone_id, token)

        def create_on_a():
            try:  # answered with an error once A's session is ended: nothing was acknowledged
                api_a.raw("POST", api_a.zone_path, json={"hostname": uniq("hung")}, timeout=60)
            except OSError:
                pass

        pending = threading.Thread(target=create_on_a, daemon=True)
        pending.start()

        def a_waits_for_the_lock():
            with holder.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND NOT granted")
                return cur.fetchone()[0] > 0

        wait_until(a_waits_for_the_lock, 10, "node A's write to wait for the lock")
        os.kill(a.proc.pid, signal.SIGSTOP)
        try:
            holder.commit()  # A's session takes the lock, answers its read, waits on A
            edge = node(tmp_path, "edge", url, key, "edge", wait=False)
            servers.append(edge)
            wait_until(lambda: "edge serving" in edge.stderr(), 8, "a new node to start")
            t0 = time.monotonic()
            created = api_for(b, zone_id, token).create(uniq("after"))
            took = time.monotonic() - t0
            assert created["hostname"].startswith("after"), created
            assert took < 20, f"node B's write waited {took:.1f} s for the hung node's lock"
        finally:
            os.kill(a.proc.pid, signal.SIGCONT)
        pending.join(60)
    finally:
        holder.close()
        finish_servers(servers)
        cluster.stop()


def test_database_restart_gives_503_then_recovers(tmp_path):
    """PostgreSQL stopped under a running node: the API answers 503 in Cloudflare's envelope
    at once (no hang), the edge keeps serving what it has, and when PostgreSQL is back the node
    reconnects on its own and nothing acknowledged is lost."""
    cluster, url = start_cluster(tmp_path)
    key = tmp_path / "master.key"
    servers = []
    try:
        zone_id, token = zone_and_token(url, tmp_path / "a", "outage")
        a = node(tmp_path, "a", url, key, "api,edge")
        servers.append(a)
        api = api_for(a, zone_id, token)
        before = api.create(uniq("before"), ssl={"method": "http", "type": "dv"})
        https, name, serial = import_and_serve(tmp_path, url, tmp_path / "a", key, zone_id, a)

        cluster.stop_server()
        for _ in range(5):
            start = time.monotonic()
            r = api.raw("GET", api.zone_path)
            took = time.monotonic() - start
            body = check_envelope(r)
            assert r.status_code == 503, (r.status_code, body)
            assert body["errors"][0]["code"] == 1503 and r.headers.get("Retry-After") == "1"
            assert took < 3, f"the API took {took:.1f}s to say the database is away"
        wait_served(https, name, serial, 5)  # the edge still serves from its cache

        cluster.start_server()
        wait_until(lambda: api.get(before["id"]).status_code == 200, 15,
                   "the API to answer again after PostgreSQL came back")
        assert api.fetch(before["id"])["hostname"] == before["hostname"]
        after = api.create(uniq("after"))
        assert {h["id"] for h in api.all()} == {before["id"], after["id"]} | {
            h["id"] for h in api.all(hostname=name)}
        assert "reconnect backend=postgres result=ok" in a.stderr()
    finally:
        finish_servers(servers)
        cluster.stop()


def test_store_copy_moves_a_sqlite_installation(tmp_path):
    """`saasedge store copy` moves a single machine's SQLite store into an empty PostgreSQL
    database: the same hostnames, tokens and certificates (keys still sealed, the same master
    key in the data directory opens them), and the store goes on from there."""
    cluster, url = start_cluster(tmp_path)
    data = tmp_path / "single"
    servers = []
    try:
        zone_id = run_cli("zone", "create", uniq("moving", "provider.com"),
                          "--data", data).stdout.strip()
        token = run_cli("token", "create", "--zone", zone_id, "--data", data).stdout.strip()
        # SQLite, whatever backend the rest of the suite runs on.
        before = Server(data, tmp_path / "logs", roles="api,edge", extra_args=["--store.url="])
        servers.append(before)
        before.start()
        api = api_for(before, zone_id, token)
        made = [api.create(uniq(f"m{i}"), ssl={"method": "http", "type": "dv"},
                           custom_metadata={"i": str(i)}) for i in range(10)]
        https, name, serial = import_and_serve(tmp_path, "", data, data / "master.key",
                                               zone_id, before)
        # The test CA's leaf lives one day: the API's expiry watch may already call it
        # pending_expiration (and will, when the copied store's API starts).
        live = ("active", "pending_expiration")
        wait_until(lambda: api.all(hostname=name)[0]["ssl"]["status"] in live, 10,
                   "the imported certificate active")
        listed = api.all()
        before.stop()

        out = run_cli("store", "copy", "--from", data, "--to", url).stdout
        assert "hostnames          11" in out and "certificates       1" in out, out
        # A second copy is refused: the target is no longer empty.
        again = run_cli("store", "copy", "--from", data, "--to", url, check=False)
        assert again.returncode == 1 and "not empty" in again.stderr

        after = Server(data, tmp_path / "logs", roles="api,edge",
                       extra_args=[f"--store.url={url}"])
        servers.append(after)
        after.start()
        api = api_for(after, zone_id, token)
        moved = api.all()
        for h in moved + listed:
            if h["hostname"] == name:
                assert h["ssl"]["status"] in live
                h["ssl"]["status"] = "live"
        assert moved == listed
        https, _ = edge_ports(after)
        wait_served(https, name, serial, 10)
        # Ids and sequences continue past the copied ones.
        new = api.create(uniq("new"))
        assert [h["id"] for h in api.all()] == [h["id"] for h in listed] + [new["id"]]
        assert api.delete(made[0]["id"]).status_code == 200
    finally:
        finish_servers(servers)
        cluster.stop()


def private_key_der(pkey_path):
    return subprocess.run(["openssl", "pkey", "-in", str(pkey_path), "-outform", "DER"],
                          capture_output=True, check=True).stdout


def test_edge_restarted_during_an_outage_serves_from_its_local_copy(tmp_path):
    """An edge node killed and started again while PostgreSQL is away still serves the names it
    served before, from the copy it keeps on its own disk (keys sealed there as in the store);
    a name deleted before the outage is not among them; when PostgreSQL is back the edge
    registers, catches up and serves new names."""
    cluster, url = start_cluster(tmp_path)
    key = tmp_path / "master.key"
    servers = []
    try:
        zone_id, token = zone_and_token(url, tmp_path / "a", "copy")
        a = node(tmp_path, "a", url, key, "api")
        edge = node(tmp_path, "edge", url, key, "edge", wait=False)
        servers += [a, edge]
        api = api_for(a, zone_id, token)
        served = [import_and_serve(tmp_path, url, tmp_path / "a", key, zone_id, edge)
                  for _ in range(2)]
        _, gone, _ = import_and_serve(tmp_path, url, tmp_path / "a", key, zone_id, edge)
        gone_id = api.all(hostname=gone)[0]["id"]
        assert api.delete(gone_id).status_code == 200
        https, _ = edge_ports(edge)
        wait_until(lambda: not s_client(https, gone)[0], 10, "the deleted name no longer served")

        # The copy is the edge's own, readable by its owner only, and holds no key in clear.
        copy = tmp_path / "edge" / "edge-copy.db"
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        edge.stop()  # a clean stop checkpoints the WAL: every byte is in the file
        blob = copy.read_bytes()
        for ca_dir in tmp_path.glob("ca-*"):
            assert private_key_der(ca_dir / "leaf1.key") not in blob
        edge.start(wait=False)
        https, _ = edge_ports(edge)
        for _, name, serial in served:
            wait_served(https, name, serial, 10)

        cluster.stop_server()
        edge.kill9()
        edge.start(wait=False)
        https, _ = edge_ports(edge)
        for _, name, serial in served:
            wait_served(https, name, serial, 10)
        assert not s_client(https, gone)[0], "a deleted hostname came back from the copy"
        assert "serving from the local copy" in edge.stderr()

        cluster.start_server()
        https, name, serial = import_and_serve(tmp_path, url, tmp_path / "a", key, zone_id,
                                               edge)
        listed = cli(url, tmp_path / "a", "edge", "list")
        assert "live" in listed, listed
        for _, name, serial in served:
            wait_served(https, name, serial, 10)
    finally:
        finish_servers(servers)
        cluster.stop()


def test_edge_reads_from_a_streaming_replica(tmp_path):
    """An edge given --store.read_url reads hostnames and the change feed from a hot standby
    (pg_basebackup, streaming) and writes only its heartbeats to the primary: it serves what
    the primary's API made, its acknowledgements still move certificates to active, and a
    standby that goes away and comes back is reconnected to."""
    cluster, url = start_cluster(tmp_path)
    key = tmp_path / "master.key"
    servers = []
    replica = None
    try:
        zone_id, token = zone_and_token(url, tmp_path / "a", "replica")
        replica = cluster.replica()
        a = node(tmp_path, "a", url, key, "api")
        edge = Server(tmp_path / "edge", tmp_path / "logs", roles="edge",
                      extra_args=[f"--store.url={url}", f"--store.master_key={key}",
                                  f"--store.read_url={replica.url('fleet')}",
                                  "--edge.name=near-the-replica"])
        servers += [a, edge]
        edge.start(wait=False)
        api = api_for(a, zone_id, token)

        https, name, serial = import_and_serve(tmp_path, url, tmp_path / "a", key, zone_id,
                                               edge)
        wait_until(lambda: api.all(hostname=name)[0]["ssl"]["status"] == "active", 10,
                   "the certificate active after the edge read it from the replica")
        readers = replica.psql("fleet", "SELECT count(*) FROM pg_stat_activity "
                                        "WHERE application_name = 'saasedge'").strip()
        assert int(readers) >= 2, "the edge does not read from the replica"
        assert "near-the-replica" in cli(url, tmp_path / "a", "edge", "list")

        replica.stop_server()
        wait_served(https, name, serial, 5)  # cached names stay served
        replica.start_server()
        import_and_serve(tmp_path, url, tmp_path / "a", key, zone_id, edge)
        # Serving the new name took one working connection to the standby; each of the edge's
        # threads says so when its own next call reconnects, which may come a moment later
        # (seen under load: the line after the name was served, a thread's first try having
        # met "the database system is starting up").
        wait_until(lambda: "reconnect backend=postgres result=ok" in edge.stderr(), 15,
                   "a reconnect to the standby")

        # A read URL without a PostgreSQL store is refused at start.
        bad = run_cli("serve", "--data", tmp_path / "bad", "--store.url=",
                      f"--store.read_url={replica.url('fleet')}", check=False)
        assert bad.returncode != 0 and "store.read_url needs store.url" in bad.stderr
    finally:
        finish_servers(servers)
        if replica:
            replica.stop()
        cluster.stop()


def test_issuer_nodes_share_one_internal_ca(tmp_path):
    """Two issuer nodes started at once on a new database make one internal CA between them:
    the same root and intermediate in each node's data directory, and a certificate issued
    while only the second node runs verifies against the first node's root.pem."""
    (tmp_path / "dns").mkdir()
    dns = ChallTestSrv(tmp_path / "dns")
    cluster, url = start_cluster(tmp_path)
    key = tmp_path / "master.key"
    servers = []
    try:
        zone_id, token = zone_and_token(url, tmp_path / "a", "ca")
        a = node(tmp_path, "a", url, key, "api")
        servers.append(a)
        issuers = [node(tmp_path, n, url, key, "issuer", wait=False,
                        extra=["--dns.resolver", dns.resolver]) for n in ("b", "c")]
        servers += issuers
        wait_until(lambda: all("issuer started" in s.stderr() for s in issuers), 20,
                   "both issuer nodes started")
        for name in ("root.pem", "intermediate.pem"):
            b, c = ((tmp_path / n / "ca" / name).read_bytes() for n in ("b", "c"))
            assert b == c, f"the issuer nodes hold different internal CAs ({name})"
        shared = cluster.psql("fleet", "SELECT convert_from(data, 'UTF8') FROM "
                                       "internal_ca_files WHERE name = 'root.pem'")
        assert shared.strip() == (tmp_path / "b" / "ca" / "root.pem").read_text().strip()

        issuers[0].kill9()  # from here on, node c alone issues
        api = api_for(a, zone_id, token)
        host = uniq("shared-ca")
        h = create_ssl(api, host, "txt", certificate_authority="internal")
        wait_records(api, h["id"])
        h, _ = drive_txt(api, dns, h["id"])
        rows = cluster.psql("fleet", "SELECT key_type, encode(leaf, 'hex'), "
                                     "encode(COALESCE(chain, ''), 'hex') FROM certificates "
                                     f"WHERE pack_id = '{h['ssl']['id']}'").split()
        certs = [r.split("|") for r in rows]
        assert sorted(k for k, _, _ in certs) == ["ecdsa", "rsa"], certs
        root = (tmp_path / "b" / "ca" / "root.pem").read_text()
        for _, leaf, chain in certs:
            verify_chain(tmp_path, root, bytes.fromhex(leaf), bytes.fromhex(chain), host)
    finally:
        finish_servers(servers)
        cluster.stop()
        dns.stop()
