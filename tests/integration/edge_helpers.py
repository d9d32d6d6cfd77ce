"""Helpers for the edge tests: a throwaway CA made with the openssl CLI, `saasedge cert import`,
`openssl s_client` and curl against the edge's listeners, and small origins (an echoing HTTP
server, a port that refuses, a port that accepts and never answers)."""

import hashlib
import json
import re
import socket
import ssl
import sys
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509

from conftest import free_port, port_answers, run_cli, wait_until


def _openssl(*args, cwd):
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True,
                   timeout=60)


class TestCA:
    """An ECDSA root in DIR; leaf() issues ECDSA or RSA leaves for names."""

    __test__ = False  # not a test class

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=saasedge test CA",
                 "-days", "2", cwd=self.dir)
        self.ca_pem = self.dir / "ca.pem"

    def leaf(self, names, kind="ec"):
        """-> (chain path (leaf + CA), key path, serial in upper-case hex)."""
        self.n += 1
        base = f"leaf{self.n}"
        if kind == "ec":
            _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", f"{base}.key", cwd=self.dir)
        else:
            _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                     "-out", f"{base}.key", cwd=self.dir)
        _openssl("req", "-new", "-key", f"{base}.key", "-subj", f"/CN={names[0]}",
                 "-out", f"{base}.csr", cwd=self.dir)
        (self.dir / f"{base}.ext").write_text(
            "subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n")
        _openssl("x509", "-req", "-in", f"{base}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "1", "-extfile", f"{base}.ext",
                 "-out", f"{base}.crt", cwd=self.dir)
        chain = self.dir / f"{base}.chain"
        chain.write_text((self.dir / f"{base}.crt").read_text() + self.ca_pem.read_text())
        serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", f"{base}.crt"],
                                cwd=self.dir, capture_output=True, text=True, check=True)
        return chain, self.dir / f"{base}.key", serial.stdout.strip().split("=")[1].upper()


def import_cert(data, hostname, chain, key, zone=None, check=True):
    args = ["cert", "import", "--hostname", hostname, "--cert", chain, "--key", key]
    if zone:
        args += ["--zone", zone]
    return run_cli(*args, data=data, check=check)


def edge_ports(server):
    """(https port, http port) of SERVER's current run, read from its command line, once both
    answer (the server is "ready" when its API answers; the edge starts just after)."""
    cmd = " ".join(map(str, server.runs[-1]["cmd"]))
    https = int(re.search(r"--edge\.https_listen[= ]127\.0\.0\.1:(\d+)", cmd).group(1))
    http = int(re.search(r"--edge\.http_listen[= ]127\.0\.0\.1:(\d+)", cmd).group(1))
    wait_until(lambda: port_answers(https) and port_answers(http), 20, "the edge's listeners")
    return https, http


def s_client(port, servername=None, *extra, timeout=10):
    """Runs `openssl s_client`; -> (handshake ok, leaf serial or None, output)."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *extra]
    if servername:
        cmd += ["-servername", servername]
    else:
        cmd += ["-noservername"]
    # errors="replace": what the server sends after the handshake is printed too, and an h2
    # server speaks first (its SETTINGS frame, binary) when s_client reads it in time
    p = subprocess.run(cmd, input="", capture_output=True, text=True, errors="replace",
                       timeout=timeout)
    out = p.stdout + p.stderr
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    serial = serial_text(x509.load_pem_x509_certificate(m.group(0).encode())) if m else None
    ok = serial is not None and "Cipher is (NONE)" not in out
    return ok, serial, out


def serial_text(cert):
    """CERT's serial as `openssl x509 -serial` spells it: upper-case hex, whole bytes."""
    hexed = format(cert.serial_number, "X")
    return hexed.zfill(len(hexed) + len(hexed) % 2)


def edge_verifies(port, name, root, *extra):
    """The edge serves NAME a chain that openssl verifies against ROOT (a path)."""
    ok, _, out = s_client(port, name, "-CAfile", str(root), "-verify_return_error",
                          "-verify_hostname", name, *extra)
    return ok and "Verify return code: 0 (ok)" in out


def curl(port, name, path="/", *extra, timeout=20, scheme="https"):
    """curl through the edge -> CompletedProcess; -w prints the status on the last line."""
    cmd = ["curl", "-sS", "-k", "--max-time", str(timeout - 2), "--resolve",
           f"{name}:{port}:127.0.0.1", "-w", "\n%{http_code}", *extra,
           f"{scheme}://{name}:{port}{path}"]
    return subprocess.run(cmd, capture_output=True, timeout=timeout)


def split_status(p):
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code or 0), body


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        self.trailers = {}
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while (line := self.rfile.readline()) not in (b"\r\n", b""):
                        name, _, value = line.decode("latin1").partition(":")
                        self.trailers[name.lower()] = value.strip()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _answer(self):
        body = self._body()
        if self.path.startswith("/slow/"):  # /slow/SECONDS: the usual answer, that late
            self.server.slow_started += 1
            time.sleep(float(self.path.split("/")[2]))
        if self.path.startswith("/bytes/"):  # /bytes/N: N bytes of 0..255 repeated
            n = int(self.path.split("/")[2])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            block = bytes(range(256)) * 256
            for off in range(0, n, len(block)):
                self.wfile.write(block[:min(len(block), n - off)])
            return
        if self.path.startswith("/fields/"):  # /fields/N: N fields X-Field-I: I besides its own
            n = int(self.path.split("/")[2])
            self.send_response(200)
            for i in range(n):
                self.send_header(f"X-Field-{i}", str(i))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            return
        if self.path.startswith("/hinted"):  # a page whose Link fields hold two hints of three
            page = b"<!doctype html><title>hinted</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Link", "</a.css>; rel=preload; as=style, </b.css>; rel=stylesheet")
            self.send_header("Link", "<https://fonts.example>; rel=preconnect")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if self.path.startswith("/early103"):  # the origin's own 103 first
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\n"
                             b"Link: </e.css>; rel=preload; as=style\r\n\r\n")
            self.wfile.flush()
        if self.path.startswith("/trailers"):  # chunked, with trailers allowed and not
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "Server-Timing, grpc-status")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n0\r\nServer-Timing: db;dur=53\r\n"
                             b"Content-Length: 99\r\nSet-Cookie: evil=1\r\ngrpc-status: 0\r\n\r\n")
            return
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(5):
                piece = f"chunk-{i}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        info = {
            "method": self.command, "path": self.path, "host": self.headers.get("Host"),
            "xff": self.headers.get("X-Forwarded-For"),
            "proto": self.headers.get("X-Forwarded-Proto"),
            "te": self.headers.get("Transfer-Encoding"),
            "body_len": len(body), "body_sha256": hashlib.sha256(body).hexdigest(),
            "trailers": self.trailers, "trailer": self.headers.get("Trailer"),
            "peer_port": self.client_address[1],
            "sni": getattr(self.server, "last_sni", None),
        }
        out = json.dumps(info).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = _answer


class _EchoServer(ThreadingHTTPServer):
    # Python's listen backlog of 5 drops the SYNs of a burst (40 HTTP/2 streams opening their
    # origin connections at once); a retransmitted SYN costs a second, and a short
    # edge.read_timeout then turns that into a 504. Real origins listen with larger backlogs.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # Tests that cut a response short (a client gone, a body over a limit) make the edge close
        # its origin connection mid-body; the test asserts what the client saw, not this.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class EchoOrigin:
    """An HTTP/1.1 origin on a free loopback port that answers JSON describing the request;
    with TLS=(cert chain path, key path) it speaks HTTPS and records the SNI it was sent."""

    def __init__(self, tls=None):
        self.server = _EchoServer(("127.0.0.1", 0), _Echo)
        self.server.last_sni = None
        self.server.slow_started = 0  # requests for /slow/ received so far
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))

            def remember(sock, name, _ctx):
                self.server.last_sni = name

            ctx.sni_callback = remember
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class HangingOrigin:
    """Accepts connections (through the backlog) and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def refusing_port():
    return free_port()


def leaf_serial(port, name, timeout=5, rsa_only=False):
    """The serial (as `openssl x509 -serial` spells it) of the leaf the edge serves NAME to a
    default client (with RSA_ONLY, to a TLS 1.2 client whose suites all authenticate with RSA),
    or None when the handshake fails. In process: an s_client and an x509 per probe take longer
    than what a latency test measures once the machine is loaded (0.2 to 1 s each, seen)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if rsa_only:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=name) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None
    return serial_text(x509.load_der_x509_certificate(der))


def wait_served(port, name, serial, timeout, *extra, rsa_only=False):
    """Polls the edge until NAME's leaf has SERIAL (s_client with EXTRA arguments, else an
    in-process handshake, see leaf_serial); -> seconds it took."""
    start = time.monotonic()
    last = None
    while time.monotonic() - start < timeout:
        if extra:
            ok, got, _ = s_client(port, name, *extra)
        else:
            got = leaf_serial(port, name, rsa_only=rsa_only)
            ok = got is not None
        if ok and got == serial:
            return time.monotonic() - start
        last = got
        time.sleep(0.05)
    raise AssertionError(f"{name} not served with serial {serial} within {timeout}s "
                         f"(last: {last})")
