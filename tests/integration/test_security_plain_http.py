"""Issue 10, finding 9: the plain-HTTP listener builds a redirect only from a Host that is a
hostname this edge serves and a request target in origin-form. A Host that is not a hostname
answers 400, a hostname the edge does not serve 404, a target that is not a path 400, and no
answer carries a Location made of the unchecked bytes (docs/edge.md, "Plain HTTP listener")."""

import re
import socket

import pytest

from conftest import Deployment, finish_servers, uniq
from edge_helpers import curl, edge_ports, split_status


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    root = tmp_path_factory.mktemp("security_plain_http")
    d = Deployment(root)
    d.start(roles="api,edge", extra_args=["--edge.workers=1", "--edge.header_timeout=5"])
    d.https, d.http = edge_ports(d.server)
    api = d.new_api()
    d.parent = uniq("wild")
    d.wildcard = api.create(f"*.{d.parent}", ssl={"method": "txt", "type": "dv"})
    d.name = uniq("plain")
    api.create(d.name, ssl={"method": "http", "type": "dv"})
    yield d
    finish_servers(d.servers)


def raw(port, request, timeout=10):
    """Sends REQUEST (bytes) on a new connection -> (status, headers dict lower-cased, raw)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
    assert m, data[:300]
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(m.group(1)), headers, data


def get(port, host, target="/"):
    return raw(port, b"GET " + target + b" HTTP/1.1\r\nHost: " + host +
               b"\r\nConnection: close\r\n\r\n")


def test_served_names_are_redirected_to_https(edge):
    status, headers, _ = get(edge.http, edge.name.encode(), b"/some/path?q=1&r=%2F")
    assert status == 301 and headers["location"] == f"https://{edge.name}/some/path?q=1&r=%2F"
    under = f"shop.{edge.parent}"
    status, headers, _ = get(edge.http, f"{under}:80".encode(), b"/")
    assert status == 301 and headers["location"] == f"https://{under}/"


@pytest.mark.parametrize("host", [
    b"2130706433/.{parent}",         # the report's case: a path smuggled into the Host
    b"2130706433",                   # an IPv4 address in disguise
    b"evil.com/x.{parent}",
    b"evil.com?.{parent}",
    b"evil.com#.{parent}",
    b"evil.com\\.{parent}",
    b"a%2f.{parent}",
    b"user@evil.com.{parent}",
    b"*.{parent}",
    b"sp ace.{parent}",
    b"\xc3\xa9t\xc3\xa9.{parent}",   # raw UTF-8: not a hostname on the wire
    b"a..{parent}",
    b"-dash.{parent}",
    b"x" * 64 + b".{parent}",        # a label over 63 characters
])
def test_host_that_is_not_a_hostname_is_400(edge, host):
    host = host.replace(b"{parent}", edge.parent.encode())
    status, headers, data = get(edge.http, host, b"/landing")
    assert status == 400, (host, data[:300])
    assert "location" not in headers, (host, data[:300])


def test_unknown_hostname_is_404_without_location(edge):
    for host in (uniq("stranger").encode(), b"127.0.0.1", b"a.b." + edge.parent.encode()):
        status, headers, data = get(edge.http, host, b"/")
        assert status == 404, (host, data[:300])
        assert "location" not in headers


@pytest.mark.parametrize("target", [
    b"//evil.example.net/",
    b"evil.example.net:443",         # authority-form
    b"*",
    b"/a\x7fb",
    b"/caf\xc3\xa9",
    b"/frag#x",
])
def test_target_that_is_not_origin_form_gets_no_redirect(edge, target):
    status, headers, data = get(edge.http, edge.name.encode(), target)
    if target.startswith(b"//"):
        # A path beginning "//" is still a path: the Location keeps the served name as its
        # authority, so the redirect stays on this hostname.
        assert status == 301, data[:300]
        assert headers["location"] == f"https://{edge.name}//evil.example.net/"
        return
    assert status == 400, (target, data[:300])
    assert "location" not in headers


def test_absolute_form_target_names_the_host(edge):
    # RFC 9112 3.2.2: a server accepts absolute-form and its authority is the Host. A name this
    # edge does not serve gets 404 whatever the Host field says; a served one gets its redirect.
    status, headers, data = get(edge.http, edge.name.encode(), b"http://evil.example.net/x")
    assert status == 404, data[:300]
    assert "location" not in headers
    status, headers, data = get(edge.http, b"evil.example.net",
                                f"http://{edge.name}/x".encode())
    assert status == 301, data[:300]
    assert headers["location"] == f"https://{edge.name}/x"


def test_overlong_target_is_refused_not_cut(edge):
    target = b"/" + b"a" * 2500
    status, headers, data = get(edge.http, edge.name.encode(), target)
    assert status == 414, data[:300]
    assert "location" not in headers


def test_curl_sees_the_redirect_and_the_refusal(edge):
    p = curl(edge.http, edge.name, "/x", "-o", "/dev/null", "-w", "%{redirect_url}",
             scheme="http")
    assert p.stdout.decode().startswith(f"https://{edge.name}/x")
    code, _ = split_status(curl(edge.http, edge.name, "/", "-H",
                                f"Host: 2130706433/.{edge.parent}", scheme="http"))
    assert code == 400
