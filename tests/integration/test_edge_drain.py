"""Graceful stop of the edge (edge.drain_timeout): on SIGTERM the listeners close, connections
between two requests close at once, and a request in flight is answered in full: over HTTP/1.1
the connection then closes, over HTTP/2 the client gets GOAWAY with the last stream id the edge
took and that stream ends normally. The process exits as soon as nothing is in flight, or at
the deadline with what is left cut. A new process started on the same ports first (they are
SO_REUSEPORT) takes over without a refused request: a restart without downtime. It takes the old
process's listening sockets themselves (handed over through DATA/edge.sock), so connections the
kernel queued on them are served even when the old process hangs or is killed."""

import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time

import h2.errors

from conftest import Deployment, Server, finish_servers, port_answers, uniq, wait_until
from edge_helpers import EchoOrigin, TestCA, edge_ports, import_cert, wait_served
from h2_helpers import goaway, h2_client, read_through_goaway, request_headers


def start(root, *extra):
    d = Deployment(root)
    d.start(roles="api,edge", extra_args=["--edge.workers=2", "--edge.http2=true", *extra])
    d.ca = TestCA(root / "ca")
    d.creds = d.zone()
    d.https, d.http = edge_ports(d.server)
    return d


def served(d, origin):
    name = uniq("drain")
    d.api(d.creds).create(name, ssl={"method": "http", "type": "dv"},
                          custom_origin_server=f"127.0.0.1:{origin.port}")
    chain, key, serial = d.ca.leaf([name], "ec")
    import_cert(d.data, name, chain, key)
    wait_served(d.https, name, serial, 5)
    return name


def successor(d, root, workers=2):
    """A second, edge-only process on D's data directory and ports (not started yet)."""
    return Server(d.data, root / "logs-new", roles="edge", extra_args=[
        f"--edge.https_listen=127.0.0.1:{d.https}", f"--edge.http_listen=127.0.0.1:{d.http}",
        f"--edge.workers={workers}", "--edge.http2=true"])


def curl_slow(d, name, seconds):
    """curl over HTTP/1.1 for /slow/SECONDS, in the background."""
    return subprocess.Popen(
        ["curl", "-sS", "-k", "--http1.1", "--max-time", "30", "--resolve",
         f"{name}:{d.https}:127.0.0.1", "-w", "\n%{http_code}",
         f"https://{name}:{d.https}/slow/{seconds}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kept_alive_connection(d, name):
    """A TLS connection that had one request answered and stays open (keep-alive)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", d.https), timeout=10),
                           server_hostname=name)
    sock.sendall(f"GET /first HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
    got = b""
    while b"\r\n\r\n" not in got:
        got += sock.recv(65536)
    head, _, body = got.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 200"), head
    return sock


def closed_by_peer(sock, timeout):
    """True when the peer closes SOCK within TIMEOUT seconds."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


def stop_signalled(d):
    d.server.proc.send_signal(signal.SIGTERM)
    return time.monotonic()


def test_http11_request_in_flight_is_answered(tmp_path):
    d = start(tmp_path, "--edge.drain_timeout=20")
    origin = EchoOrigin()
    try:
        name = served(d, origin)
        idle = kept_alive_connection(d, name)
        slow = curl_slow(d, name, 4)
        wait_until(lambda: origin.server.slow_started, 10, "the slow request at the origin")
        t0 = stop_signalled(d)
        assert closed_by_peer(idle, 3), "an idle kept-alive connection stayed open"
        idle.close()
        wait_until(lambda: not port_answers(d.https) and not port_answers(d.http), 3,
                   "both listeners closed")
        out, err = slow.communicate(timeout=30)
        body, _, code = out.rpartition(b"\n")
        assert code == b"200", (out, err)
        assert json.loads(body)["path"] == "/slow/4"
        assert d.server.proc.wait(timeout=20) == 0
        # it ended with the last request, not at the deadline 20 s away
        assert time.monotonic() - t0 < 12
    finally:
        origin.close()
        finish_servers(d.servers)


def test_http2_goaway_and_the_open_stream_ends(tmp_path):
    d = start(tmp_path, "--edge.drain_timeout=20")
    origin = EchoOrigin()
    try:
        name = served(d, origin)
        sock, conn = h2_client(d, name)
        conn.send_headers(1, request_headers(d, name, "/slow/3"), end_stream=True)
        sock.sendall(conn.data_to_send())
        wait_until(lambda: origin.server.slow_started, 10, "the slow request at the origin")
        t0 = stop_signalled(d)
        events, after = read_through_goaway(sock, conn, 15)
        sock.close()
        away = goaway(events)
        assert away, events
        assert away[0].error_code == h2.errors.ErrorCodes.NO_ERROR
        assert away[0].last_stream_id == 1
        # the stream's response, all of it after the GOAWAY
        assert after and after[0][:2] == ("headers", 1), after
        assert dict(after[0][3])[":status"] == "200", after
        assert all(k == "data" and sid == 1 for k, sid, _, _ in after[1:]), after
        assert after[-1][2], "the stream did not end"
        assert json.loads(b"".join(data for _, _, _, data in after[1:]))["path"] == "/slow/3"
        assert d.server.proc.wait(timeout=20) == 0
        assert time.monotonic() - t0 < 12
    finally:
        origin.close()
        finish_servers(d.servers)


def test_deadline_cuts_what_is_left(tmp_path):
    d = start(tmp_path, "--edge.drain_timeout=1", "--edge.read_timeout=60")
    origin = EchoOrigin()
    try:
        name = served(d, origin)
        slow = curl_slow(d, name, 30)
        wait_until(lambda: origin.server.slow_started, 10, "the slow request at the origin")
        t0 = stop_signalled(d)
        assert d.server.proc.wait(timeout=15) == 0
        assert time.monotonic() - t0 < 6
        out, _ = slow.communicate(timeout=30)
        assert not out.endswith(b"200"), out
        wait_until(lambda: "still busy at the drain deadline" in d.server.stderr(), 5,
                   "the deadline's warning")
        assert "count=1" in d.server.stderr()
    finally:
        origin.close()
        finish_servers(d.servers)


def one_request(port, name, path):
    """A GET on a new connection -> the status line's code, or what went wrong."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                             server_hostname=name) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n"
                         .encode())
            got = b""
            while b"\r\n" not in got:
                data = sock.recv(4096)
                if not data:
                    break
                got += data
            return got.split(b" ")[1].decode() if got.startswith(b"HTTP/1.1 ") else repr(got)
    except OSError as e:
        return repr(e)


def test_restart_on_the_same_ports_loses_no_request(tmp_path):
    d = start(tmp_path, "--edge.drain_timeout=20")
    origin = EchoOrigin()
    new = None
    results, stop = [], threading.Event()

    def client():  # each request takes a while: some are in flight at every moment
        while not stop.is_set():
            results.append(one_request(d.https, name, "/slow/0.3"))

    try:
        name = served(d, origin)
        clients = [threading.Thread(target=client) for _ in range(4)]
        for t in clients:
            t.start()
        new = successor(d, tmp_path)
        new.start(wait=False)
        wait_until(lambda: "edge serving" in new.stderr(), 20, "the new process listening")
        stop_signalled(d)
        assert d.server.proc.wait(timeout=20) == 0
        after_old = len(results)
        wait_until(lambda: len(results) >= after_old + 20, 20, "answers from the new process")
        stop.set()
        for t in clients:
            t.join()
        assert [r for r in results if r != "200"] == [], results
    finally:
        stop.set()
        origin.close()
        finish_servers(d.servers + ([new] if new else []))


def test_connections_queued_on_a_hung_old_process_are_served_by_the_new_one(tmp_path):
    """With SO_REUSEPORT alone the kernel gives about half the new connections to the old
    process's sockets: stopped, it would leave them waiting, and killed, they would be reset.
    The new process took those sockets over, so it serves every one."""
    d = start(tmp_path)
    origin = EchoOrigin()
    new = None
    try:
        name = served(d, origin)
        new = successor(d, tmp_path, workers=3)
        new.start(wait=False)
        wait_until(lambda: "edge serving" in new.stderr(), 20, "the new process listening")
        assert 'listening sockets taken over" https=2 http=2' in new.stderr(), new.stderr()
        assert 'listening sockets handed over" count=4' in d.server.stderr()
        os.kill(d.server.proc.pid, signal.SIGSTOP)
        try:
            results = [None] * 16

            def client(i):
                results[i] = one_request(d.https, name, "/queued")

            clients = [threading.Thread(target=client, args=(i,)) for i in range(len(results))]
            t0 = time.monotonic()
            for t in clients:
                t.start()
            for t in clients:
                t.join(timeout=8)
            assert results == ["200"] * len(results), results
            assert time.monotonic() - t0 < 8
        finally:
            d.server.kill9()
        assert [one_request(d.https, name, "/after") for _ in range(8)] == ["200"] * 8
    finally:
        origin.close()
        finish_servers(d.servers + ([new] if new else []))


def test_a_new_process_starts_on_its_own_sockets_when_the_old_one_does_not_answer(tmp_path):
    """An old process that hangs (here SIGSTOP) cannot hand its sockets over: the new one waits
    for it 2 s at most, says so, and serves on sockets of its own."""
    d = start(tmp_path)
    origin = EchoOrigin()
    new = None
    try:
        name = served(d, origin)
        os.kill(d.server.proc.pid, signal.SIGSTOP)
        try:
            new = successor(d, tmp_path)
            t0 = time.monotonic()
            new.start(wait=False)
            wait_until(lambda: "edge serving" in new.stderr(), 20, "the new process listening")
            assert time.monotonic() - t0 < 10
            assert "listening sockets not handed over" in new.stderr(), new.stderr()
            assert "listening sockets taken over" not in new.stderr()
        finally:
            d.server.kill9()
        assert [one_request(d.https, name, "/own") for _ in range(8)] == ["200"] * 8
    finally:
        origin.close()
        finish_servers(d.servers + ([new] if new else []))
