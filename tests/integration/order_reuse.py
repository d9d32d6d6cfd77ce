"""Pebble as Let's Encrypt answers a second newOrder: Boulder, the CA behind Let's Encrypt,
hands an account that asks again for the same names its order that is still pending or ready
(order reuse, boulder#3290 and #4164) instead of a new one. Pebble never does, so this proxy
in front of it does: every request goes to Pebble unchanged (with its Host header, from which
Pebble builds its URLs and checks each JWS's "url", so both name the proxy), and a newOrder
answer for an account and set of names whose first order has not been finalized is replaced
by that first order (its Location and body; the Replay-Nonce stays Pebble's new one).

The second order Pebble made meanwhile is left unused, as a client of Boulder would never have
seen it."""

import base64
import http.client
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from conftest import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def b64json(text):
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


class OrderReusingCa:
    def __init__(self, pebble):
        self.pebble = pebble
        self.port = free_port()
        self.lock = threading.Lock()
        self.first = {}          # (account, names) -> (Location, body) of the first order
        self.finalized = set()   # paths of the finalize URLs that were posted to
        self.reused = 0          # newOrder answers replaced by a first order
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pebble.cert, pebble.dir / "key.pem")
        self.upstream_ctx = ssl.create_default_context(cafile=str(pebble.cert))
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def saasedge_args(self, name="pebble"):
        return [f"--ca.{name}.directory", f"https://127.0.0.1:{self.port}/dir",
                f"--ca.{name}.ca_bundle", str(self.pebble.cert), "--issuance.default_ca", name]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _answer(self, path, body, status, headers, payload):
        """The answer to send for a request to PATH with BODY, given Pebble's."""
        if not body:
            return status, headers, payload
        jws = json.loads(body)
        with self.lock:
            if path in self.finalized or any(urlsplit(json.loads(b)["finalize"]).path == path
                                              for _, b in self.first.values()):
                self.finalized.add(path)
            if status != 201 or not path.endswith("order-plz"):
                return status, headers, payload
            account = b64json(jws["protected"]).get("kid")
            names = tuple(sorted(i["value"] for i in b64json(jws["payload"])["identifiers"]))
            first = self.first.get((account, names))
            if first and urlsplit(json.loads(first[1])["finalize"]).path not in self.finalized:
                self.reused += 1
                headers = [(k, first[0] if k.lower() == "location" else v) for k, v in headers]
                return status, headers, first[1]
            location = next(v for k, v in headers if k.lower() == "location")
            self.first[(account, names)] = (location, payload)
            return status, headers, payload

    def _handler(self):
        ca = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                up = http.client.HTTPSConnection("127.0.0.1", ca.pebble.port,
                                                 context=ca.upstream_ctx, timeout=30)
                try:
                    up.request(self.command, self.path, body or None,
                               {k: v for k, v in self.headers.items()
                                if k.lower() not in HOP_BY_HOP})
                    r = up.getresponse()
                    payload = r.read()
                    status, headers = r.status, r.getheaders()
                finally:
                    up.close()
                status, headers, payload = ca._answer(self.path, body, status, headers,
                                                      payload)
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in HOP_BY_HOP and k.lower() != "date":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = _forward

        return Handler
