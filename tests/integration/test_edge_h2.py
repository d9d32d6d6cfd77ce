"""HTTP/2 at the edge (edge.http2, experimental): curl --http2 through the edge to an HTTP/1.1
origin: ALPN, the request as the origin sees it (Host from :authority, X-Forwarded-*), bodies
both ways (with and without a length, chunked from the origin), many streams on one
connection, 502/504 per stream, and HTTP/1.1 when edge.http2 is off."""

import hashlib
import json
import subprocess

import pytest

from conftest import Deployment, assert_ok, finish_servers, uniq, wait_until
from edge_helpers import (EchoOrigin, HangingOrigin, TestCA, edge_ports, import_cert,
                          refusing_port, split_status, wait_served)


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
