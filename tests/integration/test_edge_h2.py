"""HTTP/2 at the edge (edge.http2, on by default): curl --http2 through the edge to an HTTP/1.1
origin: ALPN, the request as the origin sees it (Host from :authority, X-Forwarded-*), bodies
both ways (with and without a length, chunked from the origin), many streams on one
connection, 502/504 per stream, and HTTP/1.1 when edge.http2 is off."""

import hashlib
import json
import socket
import ssl
import struct
import subprocess
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hpack
import pytest

from conftest import Deployment, assert_ok, finish_servers, uniq, wait_until
from edge_helpers import (EchoOrigin, HangingOrigin, TestCA, edge_ports, import_cert,
                          refusing_port, wait_served)
from h2_helpers import goaway, h2_client, read_until_closed, request_headers
from test_edge_proxy import WebSocketOrigin, ws_frame, ws_handshake, ws_read


def start(root, http2):
    d = Deployment(root)
    d.start(roles="api,edge", extra_args=[
        "--edge.workers=2", "--edge.read_timeout=2", "--edge.connect_timeout=2",
        f"--edge.http2={'true' if http2 else 'false'}"])
    d.ca = TestCA(root / "ca")
    d.creds = d.zone()
    d.https, d.http = edge_ports(d.server)
    return d


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    d = start(tmp_path_factory.mktemp("edge_h2"), True)
    d.origin = EchoOrigin()
    yield d
    d.origin.close()
    finish_servers(d.servers)


def served(edge, origin, **settings):
    api = edge.api(edge.creds)
    name = uniq("h2")
    ssl = {"method": "http", "type": "dv", **({"settings": settings} if settings else {})}
    api.create(name, ssl=ssl, custom_origin_server=origin)
    chain, key, serial = edge.ca.leaf([name], "ec")
    import_cert(edge.data, name, chain, key)
    wait_served(edge.https, name, serial, 5)
    return name


def curl2(port, name, *args, timeout=20):
    """curl --http2 through the edge; -w prints the protocol and status on the last line."""
    cmd = ["curl", "-sS", "-k", "--http2", "--max-time", str(timeout - 2), "--resolve",
           f"{name}:{port}:127.0.0.1", "-w", "\n%{http_version} %{http_code}", *args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout)


def answer(p):
    body, _, last = p.stdout.rpartition(b"\n")
    version, _, code = last.decode().partition(" ")
    return version, int(code or 0), body


def test_get_over_h2(edge):
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    version, code, body = answer(curl2(edge.https, name, f"https://{name}:{edge.https}/a?b=1"))
    assert (version, code) == ("2", 200), body
    info = json.loads(body)
    assert info["method"] == "GET" and info["path"] == "/a?b=1"
    assert info["host"] == f"{name}:{edge.https}"
    assert info["proto"] == "https" and info["xff"] == "127.0.0.1"


def test_bodies_both_ways(edge, tmp_path):
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    data = bytes(range(256)) * 8192  # 2 MiB: more than every window and buffer
    f = tmp_path / "body.bin"
    f.write_bytes(data)
    url = f"https://{name}:{edge.https}/upload"
    for extra in ((), ("-H", "Transfer-Encoding: chunked")):
        # with a length, and (curl sends no length for chunked input over h2) without
        version, code, body = answer(curl2(edge.https, name, "--data-binary", f"@{f}", *extra,
                                           url))
        assert (version, code) == ("2", 200), body
        info = json.loads(body)
        assert info["body_len"] == len(data), info
        assert info["body_sha256"] == hashlib.sha256(data).hexdigest()
    version, code, body = answer(curl2(edge.https, name, f"https://{name}:{edge.https}/chunked"))
    assert (version, code) == ("2", 200)
    assert body == b"".join(f"chunk-{i}\n".encode() for i in range(5))


def h2_exchange(edge, name, headers, body=None, trailers=None):
    """One request (BODY in one DATA frame, then TRAILERS) on a connection of its own ->
    (response fields, body, trailer fields or None), fields as bytes."""
    sock, conn = h2_client(edge, name)
    try:
        conn.send_headers(1, headers, end_stream=body is None and trailers is None)
        if body is not None:
            conn.send_data(1, body, end_stream=trailers is None)
        if trailers:
            conn.send_headers(1, trailers, end_stream=True)
        sock.sendall(conn.data_to_send())
        fields, data, trailer, ended = None, b"", None, False
        while not ended:
            chunk = sock.recv(65536)
            assert chunk, "the edge closed the connection"
            for e in conn.receive_data(chunk):
                if isinstance(e, h2.events.ResponseReceived):
                    fields = dict(e.headers)
                elif isinstance(e, h2.events.DataReceived):
                    data += e.data
                    conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                elif isinstance(e, h2.events.TrailersReceived):
                    trailer = dict(e.headers)
                elif isinstance(e, h2.events.StreamReset):
                    raise AssertionError(f"stream reset: {e}")
                elif isinstance(e, h2.events.StreamEnded):
                    ended = True
            sock.sendall(conn.data_to_send())
        return fields, data, trailer
    finally:
        sock.close()


def test_trailers_both_ways(edge):
    """Trailer fields pass both ways, as HTTP/2 trailers to the client and in the last chunk to
    the origin, except those that frame, route or are the edge's own (RFC 9110 6.5.1)."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    fields, data, trailers = h2_exchange(edge, name, request_headers(edge, name, "/trailers"))
    assert fields[b":status"] == b"200" and data == b"hello", (fields, data)
    assert fields[b"trailer"] == b"Server-Timing, grpc-status", fields
    assert trailers == {b"server-timing": b"db;dur=53", b"grpc-status": b"0"}, trailers

    headers = [(":method", "POST"), (":scheme", "https"), (":authority", f"{name}:{edge.https}"),
               (":path", "/upload"), ("te", "trailers"), ("trailer", "x-checksum")]
    sent = [("x-checksum", "900150983cd24fb0"), ("x-forwarded-for", "6.6.6.6"),
            ("content-type", "text/evil"), ("host", "other.example")]
    fields, data, trailers = h2_exchange(edge, name, headers, body=b"abc", trailers=sent)
    assert fields[b":status"] == b"200" and trailers is None, (fields, trailers)
    info = json.loads(data)
    assert info["te"] == "chunked" and info["body_len"] == 3, info
    assert info["trailers"] == {"x-checksum": "900150983cd24fb0"}, info
    assert info["trailer"] == "x-checksum" and info["xff"] == "127.0.0.1", info
    assert info["host"] == f"{name}:{edge.https}", info


def test_many_streams_on_one_connection(edge, tmp_path):
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    args = []
    for i in range(40):
        args += ["-o", str(tmp_path / f"n{i}"), f"https://{name}:{edge.https}/n{i}"]
    # --parallel multiplexes the 40 requests as streams of one connection
    p = curl2(edge.https, name, "-v", "--parallel", "--parallel-max", "40", *args)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().count("2 200") == 40, p.stdout
    for i in range(40):
        assert json.loads((tmp_path / f"n{i}").read_bytes())["path"] == f"/n{i}"
    assert p.stderr.count(b"Connected to") == 1, p.stderr.decode()[-2000:]


def test_h2load(edge):
    """nghttp2's own load client: 2,000 requests on 4 connections, 20 streams at once on each,
    every one answered 200."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    p = subprocess.run(["h2load", "-n2000", "-c4", "-m20", "--connect-to",
                        f"127.0.0.1:{edge.https}", f"https://{name}:{edge.https}/load"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, " \
           "0 errored" in p.stdout, p.stdout
    assert "status codes: 2000 2xx" in p.stdout, p.stdout
    assert "Application protocol: h2" in p.stdout, p.stdout


def test_authority_other_than_sni_gives_421(edge):
    """As with HTTP/1.1's Host: a connection serves the name its TLS handshake was for."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    sock, conn = h2_client(edge, name)
    try:
        headers = [(":method", "GET"), (":scheme", "https"),
                   (":authority", f"someone-else.com:{edge.https}"), (":path", "/")]
        conn.send_headers(1, headers, end_stream=True)
        sock.sendall(conn.data_to_send())
        status, deadline = None, time.monotonic() + 10
        while status is None and time.monotonic() < deadline:
            sock.settimeout(1)
            for e in conn.receive_data(sock.recv(65536)):
                if isinstance(e, h2.events.ResponseReceived):
                    status = dict(e.headers)[b":status"]
            sock.sendall(conn.data_to_send())
        assert status == b"421"
    finally:
        sock.close()


def test_http2_setting_per_hostname(edge):
    """ssl.settings.http2 "off" keeps a name's clients on HTTP/1.1; turned on again by a PATCH,
    it takes effect without a restart, as the other settings do."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}", http2="off")
    url = f"https://{name}:{edge.https}/"
    version, code, _ = answer(curl2(edge.https, name, url))
    assert (version, code) == ("1.1", 200)
    other = served(edge, f"127.0.0.1:{edge.origin.port}")
    assert answer(curl2(edge.https, other, f"https://{other}:{edge.https}/"))[:2] == ("2", 200)
    api = edge.api(edge.creds)
    h = api.page(hostname=name)["result"][0]
    assert_ok(api.patch(h["id"], {"ssl": {"settings": {"http2": "on"}}}), 202)
    wait_until(lambda: answer(curl2(edge.https, name, url))[:2] == ("2", 200), 5,
               "h2 offered once the setting is on")


def exchanges(edge, name, paths):
    """GETs of PATHS one after another on one HTTP/2 connection (so on one event loop of the
    edge, whose Early Hints it learnt) -> for each, its interim responses' fields and its final
    response's."""
    sock, conn = h2_client(edge, name)
    results = []
    try:
        for i, path in enumerate(paths):
            stream = 1 + 2 * i
            conn.send_headers(stream, request_headers(edge, name, path), end_stream=True)
            sock.sendall(conn.data_to_send())
            interim, final, ended = [], None, False
            while not ended:
                data = sock.recv(65536)
                assert data, "the edge closed the connection"
                for e in conn.receive_data(data):
                    if isinstance(e, h2.events.InformationalResponseReceived):
                        interim.append(dict(e.headers))
                    elif isinstance(e, h2.events.ResponseReceived):
                        final = dict(e.headers)
                    elif isinstance(e, h2.events.DataReceived):
                        conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                    elif isinstance(e, h2.events.StreamEnded) and e.stream_id == stream:
                        ended = True
                sock.sendall(conn.data_to_send())
            results.append((interim, final))
    finally:
        sock.close()
    return results


HINTS = b"</a.css>; rel=preload; as=style, <https://fonts.example>; rel=preconnect"


def test_early_hints_from_link_fields(edge):
    """early_hints "on": the preload and preconnect links of a page's last answer are sent as a
    103 on the next GET of that page, before the origin answers (as Cloudflare does); the
    origin's own 103 is passed on. "off" sends neither; a PATCH turns it on without a
    restart."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}", early_hints="on")
    (first, page), (second, again), (_, other) = exchanges(edge, name,
                                                           ["/hinted", "/hinted", "/other"])
    assert first == [] and page[b":status"] == b"200", (first, page)
    assert [h[b":status"] for h in second] == [b"103"] and second[0][b"link"] == HINTS, second
    assert again[b":status"] == b"200"
    [(origin_103, final)] = exchanges(edge, name, ["/early103"])
    assert [h.get(b"link") for h in origin_103] == [b"</e.css>; rel=preload; as=style"]
    assert final[b":status"] == b"200"

    off = served(edge, f"127.0.0.1:{edge.origin.port}", early_hints="off")
    results = exchanges(edge, off, ["/hinted", "/hinted", "/early103"])
    assert [interim for interim, _ in results] == [[], [], []], results
    api = edge.api(edge.creds)
    h = api.page(hostname=off)["result"][0]
    assert_ok(api.patch(h["id"], {"ssl": {"settings": {"early_hints": "on"}}}), 202)
    wait_until(lambda: exchanges(edge, off, ["/hinted", "/hinted"])[1][0], 5,
               "hints sent once the setting is on")


def test_no_early_hints_over_http11(edge):
    """Browsers act on a 103 only over HTTP/2: an HTTP/1.1 client is sent the final response
    alone, even when the origin sends a 103."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}", early_hints="on")
    p = subprocess.run(["curl", "-sS", "-k", "-v", "--http1.1", "--resolve",
                        f"{name}:{edge.https}:127.0.0.1", f"https://{name}:{edge.https}/early103"],
                       capture_output=True, timeout=20)
    assert b"< HTTP/1.1 200" in p.stderr, p.stderr
    assert b" 103" not in p.stderr and b"e.css" not in p.stderr, p.stderr


def test_websockets_go_over_http11(edge):
    """No WebSocket over HTTP/2 (RFC 8441): the edge does not announce extended CONNECT, so a
    browser opens its WebSocket on a connection of its own that offers only http/1.1, which the
    edge serves as before; an extended CONNECT sent anyway is refused on its stream."""
    origin = WebSocketOrigin()
    try:
        name = served(edge, f"127.0.0.1:{origin.port}")
        sock, conn = h2_client(edge, name)
        try:
            settings = {}
            while h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS not in settings:
                for e in conn.receive_data(sock.recv(65536)):
                    if isinstance(e, h2.events.RemoteSettingsChanged):
                        settings.update({k: v.new_value for k, v in e.changed_settings.items()})
            assert not settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL), settings
            conn.config.validate_outbound_headers = False  # python-h2 would not send it either
            conn.send_headers(1, [(":method", "CONNECT"), (":protocol", "websocket"),
                                  (":scheme", "https"), (":path", "/chat"),
                                  (":authority", f"{name}:{edge.https}")])
            sock.sendall(conn.data_to_send())
            refused = None
            while refused is None:
                for e in conn.receive_data(sock.recv(65536)):
                    if isinstance(e, h2.events.StreamReset):
                        refused = "reset"
                    elif isinstance(e, h2.events.ResponseReceived):
                        refused = dict(e.headers)[b":status"].decode()
            assert refused in ("reset", "400", "405"), refused
        finally:
            sock.close()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])  # what a browser's WebSocket connection offers
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", edge.https), timeout=10),
                             server_hostname=name) as ws:
            status, head, _ = ws_handshake(ws, name)
            assert status == "HTTP/1.1 101 Switching Protocols", head
            ws.sendall(ws_frame(b"over http/1.1"))
            assert ws_read(ws) == (1, b"over http/1.1")
    finally:
        origin.close()


def pattern(n):
    block = bytes(range(256)) * 256
    return (block * (n // len(block) + 1))[:n]


def test_mixed_sizes_on_one_connection(edge, tmp_path):
    """Responses of 1 B to 10 MB as concurrent streams of one connection, byte for byte."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    sizes = [1, 100, 16384, 65535, 65536, 100000, 1 << 20, 10 << 20, 3 << 20, 7]
    args = []
    for i, n in enumerate(sizes):
        args += ["-o", str(tmp_path / f"r{i}"), f"https://{name}:{edge.https}/bytes/{n}"]
    p = curl2(edge.https, name, "-v", "--parallel", "--parallel-max", "20", *args)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().count("2 200") == len(sizes)
    assert p.stderr.count(b"Connected to") == 1
    for i, n in enumerate(sizes):
        assert (tmp_path / f"r{i}").read_bytes() == pattern(n), n


def test_slow_stream_does_not_hold_the_others(edge):
    """One 10 MB stream read slowly (its window given back 16 KiB every 50 ms) beside others on
    the same connection: once it is flowing, the others are asked for and finish while it is
    still being read, in order so far."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    sizes = [1, 65536, 300000, 1 << 20]
    sock, conn = h2_client(edge, name)
    slow = 1
    fast = set(range(3, 3 + 2 * len(sizes), 2))
    got, ended = {}, set()
    slow_read, last_slow = 0, time.monotonic()

    def pump(done, seconds):
        """Reads and answers frames until DONE() or SECONDS pass."""
        nonlocal slow_read, last_slow
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            sock.settimeout(0.2)
            try:
                data = sock.recv(1 << 20)
            except socket.timeout:
                data = None
            assert data != b"", "the edge closed the connection"
            for e in conn.receive_data(data) if data else []:
                if isinstance(e, h2.events.DataReceived):
                    got[e.stream_id] = got.get(e.stream_id, b"") + e.data
                    # the connection's window always; the slow stream's only below
                    conn.increment_flow_control_window(e.flow_controlled_length)
                    if e.stream_id == slow:
                        slow_read += e.flow_controlled_length
                    elif not e.stream_ended:
                        try:
                            conn.increment_flow_control_window(e.flow_controlled_length,
                                                               e.stream_id)
                        except h2.exceptions.StreamClosedError:
                            pass  # its end (an empty DATA frame) came in the same read
                elif isinstance(e, h2.events.StreamEnded):
                    ended.add(e.stream_id)
                elif isinstance(e, h2.events.StreamReset):
                    raise AssertionError(f"stream {e.stream_id} reset")
            if slow_read and slow not in ended and time.monotonic() - last_slow > 0.05:
                # 16 KiB every 50 ms
                step = min(slow_read, 16384)
                conn.increment_flow_control_window(step, slow)
                slow_read -= step
                last_slow = time.monotonic()
            sock.sendall(conn.data_to_send())

    try:
        conn.send_headers(slow, request_headers(edge, name, f"/bytes/{10 << 20}"),
                          end_stream=True)
        sock.sendall(conn.data_to_send())
        # the slow stream first, until its bytes flow (the origin may take a moment to answer)
        pump(lambda: slow in got, 20)
        assert slow in got, "no byte of the slow stream in 20 s"
        for i, n in enumerate(sizes):
            conn.send_headers(3 + 2 * i, request_headers(edge, name, f"/bytes/{n}"),
                              end_stream=True)
        sock.sendall(conn.data_to_send())
        pump(lambda: fast <= ended, 60)
        for i, n in enumerate(sizes):
            assert got.get(3 + 2 * i, b"") == pattern(n), (n, len(got.get(3 + 2 * i, b"")))
        # every fast stream ended while the slow one was still being read, in step so far
        assert fast <= ended and slow not in ended
        assert 0 < len(got[slow]) < 10 << 20 and got[slow] == pattern(len(got[slow]))
    finally:
        sock.close()


def test_origin_down_and_hanging(edge):
    down = served(edge, f"127.0.0.1:{refusing_port()}")
    version, code, body = answer(curl2(edge.https, down, f"https://{down}:{edge.https}/"))
    assert (version, code) == ("2", 502) and b"502 Bad Gateway" in body
    origin = HangingOrigin()
    try:
        hanging = served(edge, f"127.0.0.1:{origin.port}")
        version, code, body = answer(curl2(edge.https, hanging,
                                           f"https://{hanging}:{edge.https}/"))
        assert (version, code) == ("2", 504)
    finally:
        origin.close()


def test_response_fields_up_to_the_limit(edge):
    """A stream is sent the fields of the origin's head one by one: as many as edge.max_headers
    (100) pass, all of them; a head with more is a 502 for HTTP/2 (nginx: "upstream sent too big
    header"), passed through as it is over HTTP/1.1, and the edge serves on."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    p = curl2(edge.https, name, "-D", "-", f"https://{name}:{edge.https}/fields/90")
    version, code, body = answer(p)
    assert (version, code) == ("2", 200) and body.endswith(b"ok")
    head = body.decode("latin1").lower()
    assert all(f"x-field-{i}: {i}\r\n" in head for i in range(90))
    version, code, body = answer(curl2(edge.https, name, f"https://{name}:{edge.https}/fields/300"))
    assert (version, code) == ("2", 502), body
    p = subprocess.run(["curl", "-sS", "-k", "--http1.1", "-D", "-", "--resolve",
                        f"{name}:{edge.https}:127.0.0.1", f"https://{name}:{edge.https}/fields/300"],
                       capture_output=True, timeout=20)
    assert p.stdout.startswith(b"HTTP/1.1 200") and b"X-Field-299: 299\r\n" in p.stdout
    still_serves(edge, name)


def test_http11_when_off(tmp_path):
    d = start(tmp_path, False)
    origin = EchoOrigin()
    try:
        name = served(d, f"127.0.0.1:{origin.port}")
        version, code, _ = answer(curl2(d.https, name, f"https://{name}:{d.https}/"))
        assert (version, code) == ("1.1", 200)
    finally:
        origin.close()
        finish_servers(d.servers)


# ---- abuse: each attack on one connection ends that connection; other clients are served ----

def still_serves(edge, name):
    version, code, _ = answer(curl2(edge.https, name, f"https://{name}:{edge.https}/ok"))
    assert (version, code) == ("2", 200)


def test_rapid_reset_flood(edge):
    """CVE-2023-44487: streams opened and cancelled at once, as fast as the client can."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    sock, conn = h2_client(edge, name)
    try:
        for i in range(0, 20000, 2):
            stream = 1 + i
            conn.send_headers(stream, request_headers(edge, name), end_stream=True)
            conn.reset_stream(stream, h2.errors.ErrorCodes.CANCEL)
            if i % 200 == 0:
                try:
                    sock.sendall(conn.data_to_send())
                except OSError:
                    break
        events = read_until_closed(sock, conn, 15)
        assert goaway(events) and goaway(events)[0].error_code != h2.errors.ErrorCodes.NO_ERROR
    finally:
        sock.close()
    still_serves(edge, name)


def test_continuation_flood(edge):
    """CVE-2024-28182: a header block that never ends, CONTINUATION after CONTINUATION."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    sock, conn = h2_client(edge, name)
    try:
        encoder = hpack.Encoder()
        block = encoder.encode(request_headers(edge, name))
        # HEADERS without END_HEADERS, then CONTINUATION frames of junk fields, never ending
        frame = struct.pack(">I", len(block))[1:] + bytes([0x1, 0x1]) + struct.pack(">I", 1)
        sock.sendall(conn.data_to_send() + frame + block)
        piece = encoder.encode([("x-junk", "a" * 1000)])
        cont = struct.pack(">I", len(piece))[1:] + bytes([0x9, 0x0]) + struct.pack(">I", 1)
        for _ in range(10000):
            try:
                sock.sendall(cont + piece)
            except OSError:
                break
        read_until_closed(sock, conn, 15)
    finally:
        sock.close()
    still_serves(edge, name)


def test_ping_and_settings_floods(edge):
    """PING and SETTINGS frames sent without reading the acknowledgements."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    for kind in ("ping", "settings"):
        sock, conn = h2_client(edge, name)
        try:
            for i in range(100000):
                if kind == "ping":
                    conn.ping(struct.pack(">Q", i))
                else:
                    conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100})
                if i % 500 == 0:
                    try:
                        sock.sendall(conn.data_to_send())
                    except OSError:
                        break
            read_until_closed(sock, conn, 15)
        finally:
            sock.close()
        still_serves(edge, name)


def test_zero_window_stall(edge):
    """A client that opens no window: the edge keeps no stream waiting on it for ever."""
    name = served(edge, f"127.0.0.1:{edge.origin.port}")
    sock, conn = h2_client(edge, name, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    try:
        conn.send_headers(1, request_headers(edge, name, "/stall"), end_stream=True)
        sock.sendall(conn.data_to_send())
        start, events = time.monotonic(), []
        deadline = start + 15
        while time.monotonic() < deadline and not any(
                isinstance(e, h2.events.StreamReset) for e in events):
            sock.settimeout(1)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            events += conn.receive_data(data)
        # the response's HEADERS came, its DATA cannot: the stream is reset after
        # edge.read_timeout (2 s here) rather than held
        assert any(isinstance(e, h2.events.ResponseReceived) for e in events), events
        assert any(isinstance(e, h2.events.StreamReset) for e in events), events
        assert time.monotonic() - start < 10
    finally:
        sock.close()
    still_serves(edge, name)
