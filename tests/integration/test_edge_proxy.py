"""The edge's reverse proxy and HTTP listener: curl through the edge to a test origin (Host and
X-Forwarded-* headers, bodies both ways, chunked both ways), 502 for an origin that refuses,
504 for one that hangs, 421 for a Host that is not the SNI name, slow and oversized requests cut
off while other clients are served, and the HTTP listener's ownership token and redirect."""

import base64
import contextlib
import hashlib
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

import pytest

import edge_helpers
from pg import store_execute
from conftest import Deployment, finish_servers, free_port, run_cli, uniq, wait_until
from edge_helpers import (EchoOrigin, HangingOrigin, TestCA, curl, edge_ports, import_cert,
                          refusing_port, s_client, split_status, wait_served)


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    root = tmp_path_factory.mktemp("edge_proxy")
    d = Deployment(root)
    d.start(roles="api,edge", extra_args=[
        "--edge.workers=2", "--edge.read_timeout=2", "--edge.header_timeout=2",
        "--edge.connect_timeout=2", "--edge.max_header_bytes=4096"])
    d.ca = TestCA(root / "ca")
    d.creds = d.zone()
    d.https, d.http = edge_ports(d.server)
    d.origin = EchoOrigin()
    yield d
    d.origin.close()
    finish_servers(d.servers)


@pytest.fixture(autouse=True, params=["--http1.1", "--http2"], ids=["http1.1", "h2"])
def client_protocol(request, monkeypatch):
    """Every test here runs twice: its curl requests over HTTPS go once as HTTP/1.1 and once as
    h2 (what curl chooses by default), two paths to the same proxy that must answer alike."""
    def curl_over(port, name, path="/", *extra, scheme="https", **kw):
        flags = (request.param,) if scheme == "https" else ()
        return edge_helpers.curl(port, name, path, *flags, *extra, scheme=scheme, **kw)

    monkeypatch.setattr(sys.modules[__name__], "curl", curl_over)
    return request.param


def served_hostname(edge, origin, origin_sni=None, prefix="proxy"):
    """A hostname with ORIGIN as custom origin (and ORIGIN_SNI as custom_origin_sni) and a
    certificate the edge serves -> (name, h)."""
    api = edge.api(edge.creds)
    name = uniq(prefix)
    extra = {"custom_origin_sni": origin_sni} if origin_sni else {}
    h = api.create(name, ssl={"method": "http", "type": "dv"}, custom_origin_server=origin,
                   **extra)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, name, serial, 5)
    return name, h


def test_get_keeps_host_and_sets_forwarded_headers(edge):
    name, _ = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    code, body = split_status(curl(edge.https, name, "/hello?x=1",
                                   "-H", "X-Forwarded-For: 203.0.113.7"))
    assert code == 200, body
    info = json.loads(body)
    assert info["method"] == "GET" and info["path"] == "/hello?x=1"
    assert info["host"] == f"{name}:{edge.https}"
    assert info["xff"] == "203.0.113.7, 127.0.0.1"
    assert info["proto"] == "https"


def test_request_bodies_plain_and_chunked(edge, tmp_path):
    name, _ = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    data = bytes(range(256)) * 2048  # 512 KiB: more than any buffer, so it streams
    f = tmp_path / "body.bin"
    f.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    for extra in ((), ("-H", "Transfer-Encoding: chunked")):
        code, body = split_status(curl(edge.https, name, "/upload", "--data-binary", f"@{f}",
                                       *extra))
        assert code == 200, body
        info = json.loads(body)
        assert info["method"] == "POST"
        assert info["body_len"] == len(data) and info["body_sha256"] == want, info
        if extra:
            assert info["te"] == "chunked"


def test_chunked_response_streams_back(edge):
    name, _ = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    code, body = split_status(curl(edge.https, name, "/chunked"))
    assert code == 200
    assert body == b"".join(f"chunk-{i}\n".encode() for i in range(5))


def test_origin_down_gives_502(edge):
    name, _ = served_hostname(edge, f"127.0.0.1:{refusing_port()}")
    code, body = split_status(curl(edge.https, name, "/"))
    assert code == 502 and b"502 Bad Gateway" in body


def test_origin_hanging_gives_504(edge):
    origin = HangingOrigin()
    try:
        name, _ = served_hostname(edge, f"127.0.0.1:{origin.port}")
        start = time.monotonic()
        code, body = split_status(curl(edge.https, name, "/"))
        assert code == 504 and b"504 Gateway Timeout" in body
        assert time.monotonic() - start < 6
    finally:
        origin.close()


def test_origin_by_name_is_resolved(edge):
    name, _ = served_hostname(edge, f"localhost:{edge.origin.port}")
    code, body = split_status(curl(edge.https, name, "/named"))
    assert code == 200 and json.loads(body)["path"] == "/named"


def test_host_other_than_sni_gives_421(edge):
    name, _ = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    code, body = split_status(curl(edge.https, name, "/", "-H", "Host: someone-else.com"))
    assert code == 421, body


def tls_socket(edge, name):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", edge.https), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=name)


def test_slow_client_cut_off_while_others_are_served(edge):
    name, _ = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    slow = tls_socket(edge, name)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: " + name.encode() + b"\r\n")
    results = []

    def others():
        for _ in range(5):
            results.append(split_status(curl(edge.https, name, "/other"))[0])

    t = threading.Thread(target=others)
    t.start()
    start = time.monotonic()
    closed = False
    while time.monotonic() - start < 8:
        try:
            slow.sendall(b"X-Slow: 1\r\n")
            slow.settimeout(0.5)
            if slow.recv(1) == b"":
                closed = True
                break
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            closed = True
            break
    t.join()
    slow.close()
    assert closed, "a client dribbling its head was not cut off"
    assert time.monotonic() - start < 6
    assert results == [200] * 5


def test_oversized_head_gets_431(edge):
    name, _ = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    code, _ = split_status(curl(edge.https, name, "/", "-H", "X-Big: " + "a" * 8000))
    assert code == 431
    code, _ = split_status(curl(edge.https, name, "/fine"))
    assert code == 200


def test_http_listener_redirects_and_answers_ownership(edge):
    name, h = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    p = curl(edge.http, name, "/some/path?q=1", scheme="http")
    code, _ = split_status(p)
    assert code == 301
    p = curl(edge.http, name, "/x", "-o", "/dev/null", "-w", "%{redirect_url}", scheme="http")
    assert p.stdout.decode().startswith(f"https://{name}/x")
    path = f"/.well-known/cf-custom-hostname-challenge/{h['id']}"
    code, body = split_status(curl(edge.http, name, path, scheme="http"))
    assert code == 200 and body.decode() == h["ownership_verification_http"]["http_body"]
    code, _ = split_status(curl(edge.http, uniq("stranger"), "/", scheme="http"))
    assert code == 404
    code, _ = split_status(curl(edge.http, name, "/.well-known/acme-challenge/unknown-token",
                                scheme="http"))
    assert code == 404


def test_keep_alive_to_client_and_origin(edge):
    name, _ = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    url = f"https://{name}:{edge.https}"
    p = subprocess.run(["curl", "-sS", "-k", "-v", "--resolve", f"{name}:{edge.https}:127.0.0.1",
                        f"{url}/one", f"{url}/two", "--max-time", "10"],
                       capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    bodies = [json.loads(x) for x in p.stdout.replace(b"}{", b"}\n{").splitlines()]
    assert [b["path"] for b in bodies] == ["/one", "/two"]
    assert b"Re-using existing connection" in p.stderr, p.stderr
    # The origin saw one connection for both: the edge kept it alive and reused it.
    assert bodies[0]["peer_port"] == bodies[1]["peer_port"]
    # New client connections reuse the pooled origin connections too (one pool per loop, and
    # the server runs two loops): six requests, at most two origin connections.
    ports = set()
    for i in range(6):
        code, body = split_status(curl(edge.https, name, f"/again{i}"))
        assert code == 200
        ports.add(json.loads(body)["peer_port"])
    assert len(ports) <= 2, ports


def test_head_and_post_on_one_connection(edge, tmp_path):
    name, _ = served_hostname(edge, f"127.0.0.1:{edge.origin.port}")
    url = f"https://{name}:{edge.https}"
    f = tmp_path / "b.bin"
    f.write_bytes(b"x" * 100000)
    p = subprocess.run(["curl", "-sS", "-k", "--resolve", f"{name}:{edge.https}:127.0.0.1",
                        "--data-binary", f"@{f}", f"{url}/a", "--next", "-k", "--resolve",
                        f"{name}:{edge.https}:127.0.0.1", f"{url}/b", "--max-time", "10"],
                       capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    bodies = [json.loads(x) for x in p.stdout.replace(b"}{", b"}\n{").splitlines()]
    assert [(b["method"], b["path"], b["body_len"]) for b in bodies] == [
        ("POST", "/a", 100000), ("GET", "/b", 0)]


def test_https_origin_with_custom_sni(edge):
    chain, key, _ = edge.ca.leaf(["origin.internal"], "ec")
    origin = EchoOrigin(tls=(chain, key))
    try:
        name, _ = served_hostname(edge, f"https://127.0.0.1:{origin.port}", "origin.internal",
                                  "tlsorigin")
        code, body = split_status(curl(edge.https, name, "/secure"))
        assert code == 200, body
        info = json.loads(body)
        assert info["path"] == "/secure" and info["host"] == f"{name}:{edge.https}"
        assert info["sni"] == "origin.internal"
    finally:
        origin.close()


def test_tls_origin_connections_are_reused(edge):
    """Watching idle pooled connections does not take what TLS 1.3 sends after a handshake
    (session tickets) for a close: a TLS origin connection serves request after request."""
    chain, key, _ = edge.ca.leaf(["pooled.internal"], "ec")
    origin = EchoOrigin(tls=(chain, key))
    try:
        name, _ = served_hostname(edge, f"https://127.0.0.1:{origin.port}", "pooled.internal",
                                  "tlspool")
        ports = []
        for i in range(4):
            code, body = split_status(curl(edge.https, name, f"/p{i}"))
            assert code == 200, body
            ports.append(json.loads(body)["peer_port"])
            time.sleep(0.2)  # time for anything the origin sends late to arrive
        assert len(set(ports)) <= 2, ports  # one pool per loop, two loops
    finally:
        origin.close()


def test_http_listener_answers_acme_http01_from_the_store(edge):
    """The issuer writes http-01 responses to the store; the edge's HTTP listener serves them
    (written here straight into the store, as the issuer would)."""
    api = edge.api(edge.creds)
    name = uniq("acme")
    h = api.create(name, ssl={"method": "http", "type": "dv"})
    token = "tok-" + uniq("t", "x").replace(".", "")
    response = token + ".thumbprint-of-the-account-key"
    store_execute(edge.data, "INSERT INTO challenges(kind, token, hostname, pack_id, response, "
                  "expires_at) VALUES ('http-01', ?, ?, ?, ?, ?)",
                  token, name, h["ssl"]["id"], response, int((time.time() + 600) * 1e6))
    code, body = split_status(curl(edge.http, name, f"/.well-known/acme-challenge/{token}",
                                   scheme="http"))
    assert code == 200 and body.decode() == response


def test_default_certificate_for_unknown_names(deploy, tmp_path):
    ca = TestCA(tmp_path / "ca")
    chain, key, serial = ca.leaf(["default.invalid"], "ec")
    bundle = tmp_path / "default.pem"
    bundle.write_text(chain.read_text() + key.read_text())
    d = deploy()
    d.start(roles="api,edge", extra_args=[f"--edge.default_certificate={bundle}"])
    https, _ = edge_ports(d.server)
    for name in (uniq("unknown"), None):
        ok, got, out = s_client(https, name)
        assert ok and got == serial, out


def test_changed_origin_and_deleted_hostname_take_effect_within_a_second(edge):
    name, h = served_hostname(edge, f"127.0.0.1:{refusing_port()}")
    api = edge.api(edge.creds)
    assert split_status(curl(edge.https, name, "/"))[0] == 502
    api.edit(h["id"], {"custom_origin_server": f"127.0.0.1:{edge.origin.port}"})
    start = time.monotonic()
    while split_status(curl(edge.https, name, "/moved"))[0] != 200:
        assert time.monotonic() - start < 1.0, "origin change not applied within 1 s"
        time.sleep(0.05)
    assert api.delete(h["id"]).status_code == 200
    start = time.monotonic()
    while s_client(edge.https, name)[0]:
        assert time.monotonic() - start < 1.0, "deleted hostname still served after 1 s"
        time.sleep(0.05)


def read_request(conn):
    """One request (head, and body by Content-Length) from CONN -> body, or None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    while m and len(body) < int(m.group(1)):
        chunk = conn.recv(4096)
        if not chunk:
            return None
        body += chunk
    return body


class SocketOrigin:
    """A plain TCP origin on a free loopback port: each accepted connection (counted) goes to
    self._one(conn) on its own thread."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def close(self):
        self.sock.close()


class OneShotOrigin(SocketOrigin):
    """Answers the first request of each connection with a keep-alive response, then closes the
    connection without answering when a second request comes: what an origin whose keep-alive
    timeout fires at the moment a reused connection sends looks like. With RST the close is a
    reset (SO_LINGER 0) rather than a FIN; with WHOLE it reads the second request's body before
    closing."""

    def __init__(self, rst=False, whole=False):
        self.rst = rst
        self.whole = whole
        self.unanswered = 0  # requests on reused connections, closed without an answer
        self.bodies = []
        super().__init__()

    def _one(self, conn):
        with conn:
            body = read_request(conn)
            if body is None:
                return
            self.bodies.append(body)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            # the next request on this connection: closed unanswered
            if self.whole:
                came = read_request(conn) is not None
            else:
                came = conn.recv(4096) != b""
            self.unanswered += came
            if self.rst:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_closed_pooled_origin_connection_is_retried(edge):
    origin = OneShotOrigin()
    try:
        name, _ = served_hostname(edge, f"127.0.0.1:{origin.port}")
        url = f"https://{name}:{edge.https}"
        # One client connection (one loop, one pool): the second request reuses the origin
        # connection, which the origin closes; the edge must resend on a fresh one.
        p = subprocess.run(["curl", "-sS", "-k", "--resolve",
                            f"{name}:{edge.https}:127.0.0.1", f"{url}/1", f"{url}/2",
                            "-w", " %{http_code}", "--max-time", "10"],
                           capture_output=True, timeout=20)
        assert p.stdout == b"ok 200ok 200", (p.stdout, p.stderr)
        assert origin.connections == 2
    finally:
        origin.close()


@pytest.mark.parametrize("rst", [False, True], ids=["fin", "reset"])
def test_every_request_succeeds_when_reused_connections_are_closed(edge, rst):
    """Each new client connection gets a pooled origin connection that the origin closes
    (or resets) when the request arrives: the edge resends it on a fresh one, so no 502."""
    origin = OneShotOrigin(rst=rst)
    try:
        name, _ = served_hostname(edge, f"127.0.0.1:{origin.port}")
        codes = [split_status(curl(edge.https, name, f"/n{i}")) for i in range(6)]
        assert codes == [(200, b"ok")] * 6, codes
        # At most two loops (two pools): at least four requests went to a reused connection
        # first, and every one of them was answered all the same.
        assert origin.unanswered >= 4, origin.unanswered
    finally:
        origin.close()


def read_response(sock):
    """One response with a Content-Length body -> (status code, body)."""
    head = read_head(sock)
    n = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    return int(head.split(b" ")[1]), read_exact(sock, n)


def client_with_a_pooled_origin_connection(edge, origin):
    """A client socket to a hostname routed to ORIGIN, after one answered request: the edge's
    origin connection is back in its pool, and the next request reuses it -> (socket, name)."""
    name, _ = served_hostname(edge, f"127.0.0.1:{origin.port}")
    s = tls_socket(edge, name)
    s.settimeout(10)
    s.sendall(f"GET /first HTTP/1.1\r\nHost: {name}\r\n\r\n".encode())
    assert read_response(s) == (200, b"ok")
    return s, name


def test_put_whose_body_comes_later_is_retried(edge):
    """The body arrives after the head (the edge has already sent the head on a pooled
    connection, and the origin closes that connection once it has the whole request): the body
    was kept too, so the request can still go again on a fresh connection."""
    origin = OneShotOrigin(whole=True)
    try:
        s, name = client_with_a_pooled_origin_connection(edge, origin)
        s.sendall(f"PUT /second HTTP/1.1\r\nHost: {name}\r\nContent-Length: 11\r\n\r\n"
                  .encode())
        time.sleep(0.3)
        s.sendall(b"hello world")
        assert read_response(s) == (200, b"ok")
        s.close()
        assert origin.bodies[-1] == b"hello world", origin.bodies
        assert origin.connections == 2
    finally:
        origin.close()


def test_post_is_not_sent_twice_when_a_reused_connection_closes(edge):
    """The origin reads the whole POST on a reused connection, then closes it unanswered: it
    may have acted on it, so the edge answers 502 instead of sending it again (RFC 9110
    9.2.2: only idempotent requests are retried)."""
    origin = OneShotOrigin(whole=True)
    try:
        s, name = client_with_a_pooled_origin_connection(edge, origin)
        s.sendall(f"POST /order HTTP/1.1\r\nHost: {name}\r\nContent-Length: 5\r\n\r\n"
                  f"hello".encode())
        status, _ = read_response(s)
        s.close()
        assert status == 502
        assert origin.unanswered == 1  # the origin read the POST once...
        assert origin.connections == 1  # ...and it never came again on a fresh connection
    finally:
        origin.close()


class IdleClosingOrigin(SocketOrigin):
    """Answers every request with a keep-alive response and closes a connection once it has
    been idle for IDLE seconds, as origins with a short keep-alive timeout do."""

    def __init__(self, idle):
        self.idle = idle
        super().__init__()

    def _one(self, conn):
        conn.settimeout(self.idle)
        data = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(4096)
                except socket.timeout:
                    return  # idle too long: close
                if not chunk:
                    return
                data += chunk
                while b"\r\n\r\n" in data:
                    _, _, data = data.partition(b"\r\n\r\n")
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


class ExtraBytesOrigin(IdleClosingOrigin):
    """Sends more than each response (a second, unasked response right behind it, in the same
    write) and keeps the connection open."""

    def __init__(self):
        super().__init__(idle=30)

    def _one(self, conn):
        with conn:
            while read_request(conn) is not None:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")


def test_origin_connection_with_bytes_past_the_response_is_not_reused(edge):
    origin = ExtraBytesOrigin()
    try:
        name, _ = served_hostname(edge, f"127.0.0.1:{origin.port}")
        url = f"https://{name}:{edge.https}"
        p = subprocess.run(["curl", "-sS", "-k", "--resolve", f"{name}:{edge.https}:127.0.0.1",
                            f"{url}/1", f"{url}/2", "-w", " %{http_code}", "--max-time", "10"],
                           capture_output=True, timeout=20)
        assert p.stdout == b"ok 200ok 200", (p.stdout, p.stderr)
        assert origin.connections == 2, "a connection whose origin said too much was reused"
    finally:
        origin.close()


class LateBytesOrigin(IdleClosingOrigin):
    """Answers, then sends an unasked response a moment later, while the connection waits in
    the edge's pool, and keeps it open."""

    def __init__(self):
        super().__init__(idle=30)

    def _one(self, conn):
        with conn, contextlib.suppress(ConnectionResetError):  # the edge drops it unread
            while read_request(conn) is not None:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(0.2)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")


def test_origin_sending_to_a_pooled_connection_is_not_reused(edge):
    """The pool hears of bytes that come after the response, while the connection is idle
    (the relay gave it back knowing the socket empty, without registering it again)."""
    origin = LateBytesOrigin()
    try:
        name, _ = served_hostname(edge, f"127.0.0.1:{origin.port}")
        for i in range(3):
            assert split_status(curl(edge.https, name, f"/l{i}")) == (200, b"ok")
            time.sleep(0.5)  # the unasked bytes reach the pooled connection meanwhile
        assert origin.connections == 3, "a connection whose origin said too much was reused"
    finally:
        origin.close()


def half_closed_to(port):
    """Local sockets in CLOSE-WAIT towards 127.0.0.1:PORT: the peer closed, we have not."""
    p = subprocess.run(["ss", "-tnH", "state", "close-wait", "( dport = :%d )" % port],
                       capture_output=True, text=True, check=True, timeout=10)
    return [line for line in p.stdout.splitlines() if line.strip()]


def test_origin_closing_idle_connections_is_noticed_at_once(edge):
    origin = IdleClosingOrigin(idle=0.3)
    try:
        name, _ = served_hostname(edge, f"127.0.0.1:{origin.port}")
        for i in range(4):
            assert split_status(curl(edge.https, name, f"/i{i}")) == (200, b"ok")
            time.sleep(0.6)  # the origin closes the pooled connection meanwhile
            # The edge closed its side at once: no half-closed socket waits for reuse.
            start = time.monotonic()
            while half_closed_to(origin.port):
                assert time.monotonic() - start < 1.0, half_closed_to(origin.port)
                time.sleep(0.05)
        assert origin.connections == 4
    finally:
        origin.close()


def test_total_connection_limit(deploy):
    d = deploy()
    d.start(roles="api,edge", extra_args=["--edge.max_connections=2", "--edge.workers=1"])
    https, http = edge_ports(d.server)
    time.sleep(0.3)  # the probes of edge_ports are closed and freed
    held = [socket.create_connection(("127.0.0.1", https), timeout=5) for _ in range(2)]
    time.sleep(0.2)
    extra = socket.create_connection(("127.0.0.1", http), timeout=5)
    extra.settimeout(5)
    try:
        assert extra.recv(1) == b"", "a connection over edge.max_connections was not closed"
    except ConnectionResetError:
        pass  # closed as well (a reset, depending on timing)
    extra.close()
    held[0].close()

    def answered():
        s = socket.create_connection(("127.0.0.1", http), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: nobody.example\r\n\r\n")
        s.settimeout(5)
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        s.close()
        return data.startswith(b"HTTP/1.1 404")

    start = time.monotonic()
    while not answered():
        assert time.monotonic() - start < 3, "no room again after a connection closed"
        time.sleep(0.05)
    held[1].close()


# ---- WebSocket and other upgrades ----------------------------------------------------------------

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest())


def ws_mask(data, key):
    if not data:
        return data
    k = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(len(data), "big")


def ws_frame(payload, opcode=1, mask=True):
    """One final frame (text by default), masked as a client must send it."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + ws_mask(payload, key)


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise AssertionError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def ws_read(sock):
    """-> (opcode, payload) of one frame, unmasking it when masked."""
    b0, b1 = read_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(sock, 8))[0]
    key = read_exact(sock, 4) if b1 & 0x80 else None
    payload = read_exact(sock, n)
    return b0 & 0x0F, ws_mask(payload, key) if key else payload


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            raise AssertionError(f"closed before the end of the head: {data!r}")
        data += chunk
    return data


class WebSocketOrigin(SocketOrigin):
    """A WebSocket echo server (RFC 6455 handshake, then every text frame sent back, unmasked)
    that records each request head. A request without both Upgrade: websocket and an "upgrade"
    Connection token, or for /refuse, gets a plain 403 instead. With TLS=(chain, key) it speaks
    wss (TLS first)."""

    def __init__(self, tls=None):
        self.heads = []
        self.dropped = 0  # tunnels that ended by a close from the edge's side
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        super().__init__()

    def _one(self, conn):
        if self.ctx:
            try:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
        with conn:
            try:
                head = read_head(conn).decode("latin-1")
            except AssertionError:
                return
            self.heads.append(head)
            fields = {}
            for line in head.split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    fields[k.strip().lower()] = v.strip()
            tokens = [t.strip().lower() for t in fields.get("connection", "").split(",")]
            if (fields.get("upgrade", "").lower() != "websocket" or "upgrade" not in tokens
                    or head.startswith("GET /refuse")):
                body = b"no websocket here"
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))
                return
            accept = ws_accept(fields["sec-websocket-key"].encode())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                         b"\r\n\r\n")
            try:
                while True:
                    opcode, payload = ws_read(conn)
                    if opcode == 8:  # close: answer it and end
                        conn.sendall(ws_frame(payload, 8, mask=False))
                        return
                    conn.sendall(ws_frame(payload, opcode, mask=False))
            except (AssertionError, OSError):
                self.dropped += 1  # the edge closed the tunnel
                return


def ws_handshake(sock, name, path="/chat"):
    """Sends an upgrade request -> (status line, head text, the key's expected accept)."""
    key = base64.b64encode(os.urandom(16))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {name}\r\nUpgrade: websocket\r\n"
                 f"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 f"Sec-WebSocket-Key: {key.decode()}\r\n\r\n".encode())
    head = read_head(sock).decode("latin-1")
    return head.split("\r\n")[0], head, ws_accept(key).decode()


def websocket_through_edge(edge, origin, path="/chat", timeout=10, origin_sni=None):
    """A hostname whose origin is ORIGIN (a URL or host:port), and a TLS client socket that asked
    for a WebSocket on PATH -> (socket, status line, head text, the expected accept)."""
    name, _ = served_hostname(edge, origin, origin_sni, "ws")
    s = tls_socket(edge, name)
    s.settimeout(timeout)
    return (s, *ws_handshake(s, name, path))


def test_websocket_through_the_edge(edge):
    origin = WebSocketOrigin()
    try:
        s, status, head, accept = websocket_through_edge(edge, f"127.0.0.1:{origin.port}")
        assert status == "HTTP/1.1 101 Switching Protocols", head
        assert f"Sec-WebSocket-Accept: {accept}" in head, head
        # The origin saw the upgrade asked for, with the usual forwarded headers.
        sent = origin.heads[-1].lower()
        assert "\r\nupgrade: websocket\r\n" in sent and "\r\nconnection: upgrade\r\n" in sent
        assert "\r\nx-forwarded-proto: https\r\n" in sent
        for text in (b"hello through the edge", b"x" * 3000):
            s.sendall(ws_frame(text))
            assert ws_read(s) == (1, text)
        s.sendall(ws_frame(b"\x03\xe8", opcode=8))
        assert ws_read(s) == (8, b"\x03\xe8")
        assert s.recv(1) == b"", "the tunnel stayed open after the origin closed"
        s.close()
    finally:
        origin.close()


def test_large_messages_through_a_websocket_to_a_tls_origin(edge):
    """wss to the origin, and messages far larger than the edge's buffers both ways."""
    chain, key, _ = edge.ca.leaf(["ws.internal"], "ec")
    origin = WebSocketOrigin(tls=(chain, key))
    try:
        s, status, head, accept = websocket_through_edge(
            edge, f"https://127.0.0.1:{origin.port}", timeout=20, origin_sni="ws.internal")
        assert status == "HTTP/1.1 101 Switching Protocols", head
        assert f"Sec-WebSocket-Accept: {accept}" in head, head
        big = os.urandom(3 * 1024 * 1024)
        for payload in (big, b"small after big", big[:70000]):
            s.sendall(ws_frame(payload, opcode=2))
            got = ws_read(s)
            assert got[0] == 2 and got[1] == payload, (len(got[1]), len(payload))
        s.close()
    finally:
        origin.close()


def test_client_leaving_a_websocket_closes_the_origin_side(edge):
    origin = WebSocketOrigin()
    try:
        s, status, head, _ = websocket_through_edge(edge, f"127.0.0.1:{origin.port}")
        assert status == "HTTP/1.1 101 Switching Protocols", head
        s.sendall(ws_frame(b"bye"))
        assert ws_read(s) == (1, b"bye")
        s.close()  # no close frame: the client just goes
        wait_until(lambda: origin.dropped == 1, 2, "the origin side of the tunnel to close")
    finally:
        origin.close()


def test_refused_upgrade_is_a_normal_response(edge):
    origin = WebSocketOrigin()
    try:
        name, _ = served_hostname(edge, f"127.0.0.1:{origin.port}")
        s = tls_socket(edge, name)
        s.settimeout(10)
        status, head, _ = ws_handshake(s, name, "/refuse")
        assert status == "HTTP/1.1 403 Forbidden", head
        assert read_exact(s, len(b"no websocket here")) == b"no websocket here"
        s.close()
        # A plain request never asks the origin to switch: Upgrade alone is dropped.
        code, body = split_status(curl(edge.https, name, "/", "-H", "Upgrade: websocket"))
        assert (code, body) == (403, b"no websocket here")
        assert "upgrade:" not in origin.heads[-1].lower(), origin.heads[-1]
    finally:
        origin.close()


def test_idle_websocket_is_closed_after_the_idle_timeout(deploy, tmp_path):
    d = deploy()
    d.start(roles="api,edge", extra_args=["--edge.idle_timeout=1"])
    https, _ = edge_ports(d.server)
    origin = WebSocketOrigin()
    try:
        api = d.api(d.zone())
        name = uniq("ws")
        api.create(name, ssl={"method": "http", "type": "dv"},
                   custom_origin_server=f"127.0.0.1:{origin.port}")
        chain, key, serial = TestCA(tmp_path / "ca").leaf([name], "ec")
        import_cert(d.data, name, chain, key)
        wait_served(https, name, serial, 5)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", https), timeout=10),
                            server_hostname=name)
        status, head, _ = ws_handshake(s, name)
        assert status == "HTTP/1.1 101 Switching Protocols", head
        s.sendall(ws_frame(b"ping"))
        assert ws_read(s) == (1, b"ping")
        start = time.monotonic()
        try:
            assert s.recv(1) == b""
        except (ssl.SSLError, ConnectionResetError):
            pass
        assert 0.5 < time.monotonic() - start < 4, time.monotonic() - start
        s.close()
        # A tunnel still open when the server stops is closed and freed with it (the ASan
        # build checks for leaks at exit).
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", https), timeout=10),
                            server_hostname=name)
        assert ws_handshake(s, name)[0] == "HTTP/1.1 101 Switching Protocols"
        d.server.stop()
        s.close()
    finally:
        origin.close()


# ---- IPv6 listeners ------------------------------------------------------------------------------


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def dual_stack_free_port():
    """A port free on every IPv4 and IPv6 address a moment ago."""
    return free_port(socket.AF_INET6, "::")


def curl_at(address, port, name, path="/", scheme="https"):
    """curl to NAME:PORT with NAME resolved to ADDRESS ("127.0.0.1" or "[::1]") -> (code, body)."""
    return split_status(subprocess.run(
        ["curl", "-sS", "-k", "--max-time", "8", "--resolve", f"{name}:{port}:{address}",
         "-w", "\n%{http_code}", f"{scheme}://{name}:{port}{path}"],
        capture_output=True, timeout=10))


@pytest.mark.parametrize("form", ["[::1]", "any"])
def test_edge_listens_on_ipv6(deploy, tmp_path, form):
    """`[::1]:PORT` serves over IPv6; `:PORT` (the form of the defaults :443 and :80) serves
    IPv4 and IPv6 clients alike, and an IPv4 client keeps its plain address in
    X-Forwarded-For."""
    if not have_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    https, http = dual_stack_free_port(), dual_stack_free_port()
    host = "[::1]" if form == "[::1]" else ""
    d = deploy()
    d.start(roles="api,edge", extra_args=[f"--edge.https_listen={host}:{https}",
                                          f"--edge.http_listen={host}:{http}"])
    origin = EchoOrigin()
    try:
        api = d.api(d.zone())
        name = uniq("six")
        api.create(name, ssl={"method": "http", "type": "dv"},
                   custom_origin_server=f"127.0.0.1:{origin.port}")
        chain, key, _ = TestCA(tmp_path / "ca").leaf([name], "ec")
        import_cert(d.data, name, chain, key)
        addresses = {"[::1]": "::1"} if form == "[::1]" else {"[::1]": "::1",
                                                              "127.0.0.1": "127.0.0.1"}
        for address, peer in addresses.items():
            def answered():
                r = curl_at(address, https, name, "/six")
                return r if r[0] else None  # 0: no TLS answer yet (the pack is loading)

            code, body = wait_until(answered, 10, f"an answer over {address}")
            assert code == 200, body
            info = json.loads(body)
            assert info["path"] == "/six" and info["xff"] == peer, info
            code, _ = curl_at(address, http, name, "/x", scheme="http")
            assert code == 301
        if form == "[::1]":  # bound to ::1 only: nothing answers on IPv4
            assert curl_at("127.0.0.1", https, name)[0] == 0
    finally:
        origin.close()


# ---- origin certificate verification ("Full (strict)") -------------------------------------------


def tls_origin_hostname(d, https, ca, origin_port, sni, origin_host="127.0.0.1"):
    """A hostname of deployment D whose origin is https://ORIGIN_HOST:ORIGIN_PORT with SNI
    (None: no custom_origin_sni)."""
    api = d.api(d.creds)
    name = uniq("strict")
    extra = {"custom_origin_sni": sni} if sni else {}
    api.create(name, ssl={"method": "http", "type": "dv"},
               custom_origin_server=f"https://{origin_host}:{origin_port}", **extra)
    chain, key, serial = ca.leaf([name], "ec")
    import_cert(d.data, name, chain, key)
    wait_served(https, name, serial, 5)
    return name


def test_origin_certificate_verification(deploy, tmp_path):
    ca = TestCA(tmp_path / "origin-ca")
    other_ca = TestCA(tmp_path / "other-ca")
    d = deploy()
    d.start(roles="api,edge", extra_args=["--edge.origin_tls_verify=true",
                                          f"--edge.origin_ca_file={ca.ca_pem}"])
    d.creds = d.zone()
    https, _ = edge_ports(d.server)
    good = EchoOrigin(tls=ca.leaf(["origin.internal", "localhost"], "ec")[:2])
    stranger = EchoOrigin(tls=other_ca.leaf(["origin.internal"], "ec")[:2])
    try:
        name = tls_origin_hostname(d, https, ca, good.port, "origin.internal")
        code, body = split_status(curl(https, name, "/strict"))
        assert code == 200, body
        assert json.loads(body)["sni"] == "origin.internal"

        # Without custom_origin_sni the certificate must name the origin's host.
        name = tls_origin_hostname(d, https, ca, good.port, None, "localhost")
        code, body = split_status(curl(https, name, "/by-host"))
        assert code == 200, body
        assert json.loads(body)["sni"] == "localhost"
        # An IP origin without custom_origin_sni: the certificate must carry that IP address.
        name = tls_origin_hostname(d, https, ca, good.port, None)
        code, body = split_status(curl(https, name, "/"))
        assert code == 502 and b"(IP address mismatch)" in body, body

        name = tls_origin_hostname(d, https, ca, good.port, "someone-else.internal")
        code, body = split_status(curl(https, name, "/"))
        assert code == 502, body
        assert b"certificate was not accepted (hostname mismatch)" in body, body

        name = tls_origin_hostname(d, https, ca, stranger.port, "origin.internal")
        code, body = split_status(curl(https, name, "/"))
        assert code == 502, body
        # The origin sends its own root along: a root the edge does not trust.
        reason = b"certificate was not accepted (self-signed certificate in certificate chain)"
        assert reason in body, body
        log = d.server.stderr()
        assert f"hostname={name}" in log and reason.decode() in log, log[-3000:]
        assert "PRIVATE KEY" not in log
    finally:
        good.close()
        stranger.close()


def test_origin_certificate_not_verified_by_default(edge):
    """Cloudflare's "Full": an origin certificate from a CA nobody trusts, for another name,
    still serves (test_https_origin_with_custom_sni covers the matching name)."""
    other_ca = TestCA(edge.root / "unknown-ca")
    origin = EchoOrigin(tls=other_ca.leaf(["origin.internal"], "ec")[:2])
    try:
        name = tls_origin_hostname(edge, edge.https, edge.ca, origin.port, "wrong.internal")
        code, body = split_status(curl(edge.https, name, "/full"))
        assert code == 200, body
    finally:
        origin.close()


def test_unreadable_origin_ca_file_stops_start_up(tmp_path):
    p = run_cli("serve", "--api.listen", f"127.0.0.1:{free_port()}", "--roles=api,edge",
                f"--edge.https_listen=127.0.0.1:{free_port()}",
                f"--edge.http_listen=127.0.0.1:{free_port()}",
                "--edge.origin_tls_verify=true",
                f"--edge.origin_ca_file={tmp_path / 'missing.pem'}",
                data=tmp_path / "data", check=False, timeout=30)
    assert p.returncode != 0
    assert "edge.origin_ca_file" in p.stderr and "missing.pem" in p.stderr, p.stderr
