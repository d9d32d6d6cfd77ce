"""What one client may take from the dns role (issue 10, finding 13). Over TCP a connection
holds one of 64 slots only for a bounded time: a client trickling bytes (slow loris) is cut
when its query is not complete within dns.tcp_idle_timeout, and every connection ends after
dns.tcp_lifetime whatever it does; others are served meanwhile and after. Over UDP responses
are rate limited per client prefix (dns.rrl_rate a second, every dns.rrl_slip-th answer over
it sent truncated so a real resolver retries over TCP): a flood from one address is limited
while another address is answered. Clients are real sockets; queries and answers are built and
read with dnspython."""

import socket
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import free_port, wait_until

ZONE = "dcv.saasedge.test"
SLOTS = 64  # the dns role's TCP connections at once


def start_dns(d, extra=()):
    port = free_port()
    d.start(roles="api,dns", extra_args=[
        "--dns.zone", ZONE, f"--dns.listen=127.0.0.1:{port}", *extra])
    wait_until(lambda: tcp_soa(port, timeout=1) is not None, 10, "the dns role over TCP")
    return port


def soa_query():
    return dns.message.make_query(ZONE, "SOA")


def tcp_soa(port, timeout=3):
    """An SOA answer over a fresh TCP connection, or None when none came."""
    try:
        r = dns.query.tcp(soa_query(), "127.0.0.1", port=port, timeout=timeout)
    except (OSError, EOFError, dns.exception.Timeout):
        return None
    return r if r.rcode() == dns.rcode.NOERROR and r.answer else None


def udp_soa(port, source="127.0.0.1", timeout=2):
    try:
        r = dns.query.udp(soa_query(), "127.0.0.1", port=port, source=source, timeout=timeout)
    except dns.exception.Timeout:
        return None
    return r


def closed_by_server(sock, timeout):
    """Seconds until the server closes SOCK (read returns EOF or a reset), or None."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < timeout:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
    return None


def trickle(sock, wire, every, until):
    """Sends WIRE (a length-prefixed query) one byte per EVERY seconds, never finishing it,
    until UNTIL (monotonic) or the server closes -> seconds it stayed open."""
    start = time.monotonic()
    for b in wire[:-1]:
        if time.monotonic() >= until:
            break
        try:
            sock.sendall(bytes([b]))
        except OSError:
            break
        sock.settimeout(every)
        try:
            if sock.recv(1) == b"":
                break
        except socket.timeout:
            pass
        except OSError:
            break
    return time.monotonic() - start


def test_slow_loris_is_cut_at_the_idle_deadline(deploy):
    """Default settings: a query trickled a byte a second no longer keeps its slot forever (the
    deadline used to move on every read): it is cut 10 s after connecting."""
    d = deploy()
    port = start_dns(d)
    wire = soa_query().to_wire()
    wire = len(wire).to_bytes(2, "big") + wire
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        lasted = trickle(s, wire, 1.0, time.monotonic() + 16)
    assert lasted < 13, f"a trickling client held its slot for {lasted:.1f}s (limit 10 s)"
    assert tcp_soa(port) is not None


def keep_asking(socks, framed, every, timeout):
    """Sends a whole query on each of SOCKS every EVERY seconds, reading what comes back, until
    the server has closed them all or TIMEOUT passes -> seconds until the last was closed, or
    None."""
    start = time.monotonic()
    open_ = set(range(len(socks)))
    for s in socks:
        s.setblocking(False)
    while open_ and time.monotonic() - start < timeout:
        for i in list(open_):
            try:
                socks[i].sendall(framed)
                while socks[i].recv(4096):
                    pass
            except BlockingIOError:
                pass
            except OSError:
                open_.discard(i)
                continue
            if _closed(socks[i]):
                open_.discard(i)
        time.sleep(every)
    return None if open_ else time.monotonic() - start


def _closed(sock):
    try:
        return sock.recv(4096, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_tcp_slots_are_freed_at_the_absolute_deadline(deploy):
    """Every slot taken by clients that keep asking (a whole query every half second, so the
    idle deadline never fires): they are cut at dns.tcp_lifetime, and a client after them is
    served. UDP is answered meanwhile."""
    d = deploy()
    port = start_dns(d, ["--dns.tcp_idle_timeout=2", "--dns.tcp_lifetime=3",
                         "--dns.tcp_max_queries=1000", "--dns.rrl_rate=0"])
    wire = soa_query().to_wire()
    framed = len(wire).to_bytes(2, "big") + wire
    socks = [socket.create_connection(("127.0.0.1", port), timeout=3) for _ in range(SLOTS)]
    try:
        for s in socks:
            s.sendall(framed)
            dns.query.receive_tcp(s, expiration=time.time() + 5)  # each holds a slot now
        # All slots held: a new TCP client gets nothing (closed or no answer).
        assert tcp_soa(port, timeout=1) is None, "a 65th TCP client was served"
        assert udp_soa(port) is not None, "UDP stopped while TCP was full"
        lasted = keep_asking(socks, framed, 0.5, 15)
        assert lasted is not None, "busy connections outlived dns.tcp_lifetime (3 s)"
        assert lasted < 8, f"busy connections lasted {lasted:.1f}s (lifetime 3 s)"
        assert tcp_soa(port) is not None, "no TCP client served after the slots were freed"
    finally:
        for s in socks:
            s.close()


def test_tcp_connection_answers_at_most_max_queries(deploy):
    d = deploy()
    port = start_dns(d, ["--dns.tcp_max_queries=3"])
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        for i in range(3):
            dns.query.send_tcp(s, soa_query())
            r, _ = dns.query.receive_tcp(s, expiration=time.time() + 3)
            assert r.rcode() == dns.rcode.NOERROR, i
        assert closed_by_server(s, 3) is not None, "the connection stayed open"


def udp_drops(port):
    """Datagrams the kernel dropped for want of room in the receive buffer of the UDP socket
    bound to PORT on 127.0.0.1 (the drops column of /proc/net/udp): queries the server never
    saw, which the rate limiter cannot have counted."""
    with open("/proc/net/udp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(int(r[-1]) for r in rows if r[1] == f"0100007F:{port:04X}")


def flood(port, n, source):
    """N SOA queries from SOURCE as fast as they go, reading answers in between so that none
    is lost in our own buffer -> (full answers, truncated answers, seconds the sending took,
    queries the server's kernel dropped)."""
    full = tc = 0

    def take(data):
        nonlocal full, tc
        r = dns.message.from_wire(data)
        if r.flags & dns.flags.TC:
            assert not r.answer, "a truncated answer carried records"
            tc += 1
        else:
            full += 1

    dropped = udp_drops(port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        start = time.monotonic()
        for i in range(n):
            s.sendto(soa_query().to_wire(), ("127.0.0.1", port))
            s.setblocking(False)
            try:
                while True:
                    take(s.recv(4096))
            except BlockingIOError:
                pass
            s.setblocking(True)
        took = time.monotonic() - start
        s.settimeout(0.5)
        while True:
            try:
                take(s.recv(4096))
            except socket.timeout:
                break
    return full, tc, took, udp_drops(port) - dropped


def test_udp_flood_from_one_prefix_is_limited_another_is_answered(deploy):
    """Default settings (20 responses/s per /24, slip 2)."""
    d = deploy()
    port = start_dns(d)
    full, tc, took, lost = flood(port, 300, "127.0.0.1")
    # One second of burst, then the rate; the limited ones half truncated, half dropped (of
    # those the server saw: the kernel may drop some of a burst before it reads them).
    limited = 300 - lost - full
    assert full <= 20 + 20 * (took + 1) + 2, f"{full} full answers to 300 queries in {took:.2f}s"
    assert tc >= limited // 2 - 5, f"{tc} truncated answers of {limited} limited ({lost} lost)"
    assert full + tc + lost < 300, "the rate limiter dropped nothing"
    # Meanwhile another client (another /24) is answered in full.
    r = udp_soa(port, source="127.0.1.1")
    assert r is not None and not r.flags & dns.flags.TC and r.answer, r
    # The limited client itself can ask over TCP, as the TC bit tells it to.
    assert tcp_soa(port) is not None


@pytest.mark.parametrize("slip", [0, 1])
def test_rrl_slip_settings(deploy, slip):
    d = deploy()
    port = start_dns(d, ["--dns.rrl_rate=5", f"--dns.rrl_slip={slip}"])
    full, tc, took, lost = flood(port, 100, "127.0.0.1")
    assert full <= 5 + 5 * (took + 1) + 1, (full, took)
    if slip == 0:
        assert tc == 0, f"{tc} truncated answers with slip 0 (all should be dropped)"
    else:
        limited = 100 - lost - full
        assert tc >= limited - 2, f"slip 1: {tc} truncated of {limited} limited ({lost} lost)"
