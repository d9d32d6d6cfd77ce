"""A raw HTTP/2 client (python3-h2) for the tests that send frames curl would not: floods,
stalls, a GOAWAY's last stream id."""

import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
from hyperframe.frame import DataFrame, Frame, HeadersFrame


def h2_client(edge, name, local_settings=None):
    """A TLS connection that chose h2 and an h2 (python3-h2) connection on it, preamble sent."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", edge.https), timeout=10),
                           server_hostname=name)
    assert sock.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    if local_settings:
        conn.update_settings(local_settings)
    sock.sendall(conn.data_to_send())
    return sock, conn


def request_headers(edge, name, path="/"):
    return [(":method", "GET"), (":scheme", "https"), (":authority", f"{name}:{edge.https}"),
            (":path", path)]


def read_until_closed(sock, conn, timeout):
    """Reads frames until the edge closes the connection -> the h2 events seen (GOAWAY among
    them, if it sent one); fails if the connection stays open for TIMEOUT seconds."""
    events, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            return events
        except socket.timeout:
            break
        if not data:
            return events
        try:
            events += conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            return events
    raise AssertionError(f"the connection stayed open for {timeout}s: {events[-5:]}")


def goaway(events):
    return [e for e in events if isinstance(e, h2.events.ConnectionTerminated)]


def read_through_goaway(sock, conn, timeout):
    """Reads until the edge closes the connection -> (the h2 events up to and with its GOAWAY,
    the frames after it as (kind, stream id, END_STREAM, headers or data)). python-h2 takes a
    GOAWAY for the connection's end and refuses the frames of the streams it lets finish, so
    those are decoded here (HPACK with the connection's own decoder)."""
    raw, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        except socket.timeout:
            raise AssertionError(f"the connection stayed open for {timeout}s")
        if not data:
            break
        raw += data
    events, after, off = [], [], 0
    while off + 9 <= len(raw):
        frame, length = Frame.parse_frame_header(memoryview(raw[off:off + 9]))
        whole = raw[off:off + 9 + length]
        off += 9 + length
        if not goaway(events):
            events += conn.receive_data(whole)
            continue
        frame.parse_body(memoryview(whole[9:]))
        end = "END_STREAM" in frame.flags
        if isinstance(frame, HeadersFrame):
            after.append(("headers", frame.stream_id, end, conn.decoder.decode(frame.data)))
        elif isinstance(frame, DataFrame):
            after.append(("data", frame.stream_id, end, frame.data))
    return events, after
