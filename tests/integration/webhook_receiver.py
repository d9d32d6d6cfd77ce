"""A webhook receiver for the tests, as a provider would write one: a real HTTP server that
checks each message's secret and HMAC signature, drops messages whose event id it has seen,
and can be made to fail (answer 503), to be away (its port closed) or to be slow."""

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import free_port, wait_until

SIGNATURE_HEADER = "saasedge-webhook-signature"


def signature_ok(secret, header, body):
    """True when HEADER ("t=<unix>,v1=<hex>") is the HMAC-SHA256 of "t.body" under SECRET."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])
    except (KeyError, ValueError, AttributeError):
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        r = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if r.delay:
            time.sleep(r.delay)
        status = r.on_post(self.headers, body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args):
        super().__init__(*args)
        self.connections = set()

    def get_request(self):
        conn, addr = super().get_request()
        self.connections.add(conn)
        return conn, addr

    def close_connections(self):
        """Ends the kept-alive connections too: a receiver that is down answers nothing."""
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # a sender that gave up on a slow answer resets the connection


class Receiver:
    """Collects every accepted message in `messages` (parsed JSON, in arrival order, duplicates
    dropped) and every refused one in `rejected` (with why)."""

    def __init__(self, secret, port=None):
        self.secret = secret
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/saasedge"
        self.messages, self.rejected, self.seen = [], [], set()
        self.posts = 0
        self.failing = False
        self.delay = 0.0
        self.lock = threading.Lock()
        self.httpd = None
        self.up()

    def up(self):
        self.httpd = _Server(("127.0.0.1", self.port), _Handler)
        self.httpd.receiver = self
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self):
        """Closes the port: senders get connection refused until up()."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_connections()

    def on_post(self, headers, body):
        with self.lock:
            self.posts += 1
            if self.failing:
                return 503
            if headers.get("cf-webhook-auth") != self.secret:
                self.rejected.append(("cf-webhook-auth", dict(headers)))
                return 401
            if not signature_ok(self.secret, headers.get(SIGNATURE_HEADER), body):
                self.rejected.append(("signature", dict(headers)))
                return 401
            msg = json.loads(body)
            event_id = headers.get("saasedge-webhook-id")
            if event_id in self.seen:
                return 200  # a retry of what we already have: acknowledged, not kept twice
            self.seen.add(event_id)
            msg["_event_id_header"] = event_id
            self.messages.append(msg)
            return 200

    def events(self, hostname_id=None):
        """The event types received so far (about HOSTNAME_ID only, when given)."""
        with self.lock:
            return [m["metadata"]["event"]["type"] for m in self.messages
                    if "metadata" in m and
                    (hostname_id is None or m["data"].get("id") == hostname_id)]

    def wait_for(self, event_type, hostname_id=None, timeout=60.0):
        short = "ssl.custom_hostname_certificate." + event_type
        wait_until(lambda: short in self.events(hostname_id), timeout,
                   f"webhook {short} (got {self.events(hostname_id)})")
        with self.lock:
            return next(m for m in self.messages if "metadata" in m and
                        m["metadata"]["event"]["type"] == short and
                        (hostname_id is None or m["data"].get("id") == hostname_id))

    def stop(self):
        self.down()
