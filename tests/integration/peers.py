"""Real peers for the issuance tests: pebble-challtestsrv (the customers' DNS) and Pebble (the
ACME CA), on loopback ports picked at run time, each with its own files under a temporary
directory. Both are the Debian `pebble` package's binaries (see the project's testing notes)."""

import base64
import contextlib
import json
import os
import shutil
import ssl
import subprocess
import urllib.request
import weakref

import pytest

from conftest import free_port, port_answers, serve_help, wait_until

PEBBLE = shutil.which("pebble") or "/usr/bin/pebble"
CHALLTESTSRV = shutil.which("pebble-challtestsrv") or "/usr/bin/pebble-challtestsrv"


@contextlib.contextmanager
def pebble_and_dns(workdir, http_port=5002, tls_port=5001, env=None):
    """pebble-challtestsrv as the customers' DNS and Pebble using it, both stopped on exit."""
    dns = ChallTestSrv(workdir)
    try:
        pebble = Pebble(workdir, dns, http_port=http_port, tls_port=tls_port, env=env)
        try:
            yield dns, pebble
        finally:
            pebble.stop()
    finally:
        dns.stop()


def require_pebble():
    for b in (PEBBLE, CHALLTESTSRV):
        if not os.access(b, os.X_OK):
            pytest.fail(f"{b} missing: run `make deps` (Debian package pebble)", pytrace=False)


class ChallTestSrv:
    """The customers' DNS: every name answers A 127.0.0.1; TXT and CNAME set per test."""

    def __init__(self, workdir):
        require_pebble()
        self.dns_port = free_port()
        self.mgmt_port = free_port()
        self.log = open(workdir / "challtestsrv.log", "wb")
        self.proc = subprocess.Popen(
            [CHALLTESTSRV, "-dns01", f"127.0.0.1:{self.dns_port}", "-management",
             f"127.0.0.1:{self.mgmt_port}", "-http01", "", "-https01", "", "-tlsalpn01", "",
             "-defaultIPv6", ""],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(lambda: port_answers(self.mgmt_port), 15, "challtestsrv management port")

    @property
    def resolver(self):
        return f"127.0.0.1:{self.dns_port}"

    def _post(self, path, body):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.mgmt_port}{path}", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200, f"challtestsrv {path} -> {r.status}"

    def set_txt(self, name, value):
        self._post("/set-txt", {"host": name.rstrip(".") + ".", "value": value})

    def clear_txt(self, name):
        self._post("/clear-txt", {"host": name.rstrip(".") + "."})

    def add_caa(self, name, tag, value):
        self._post("/add-caa", {"host": name.rstrip(".") + ".",
                                "policies": [{"tag": tag, "value": value}]})

    def clear_caa(self, name):
        self._post("/clear-caa", {"host": name.rstrip(".") + "."})

    def add_a(self, name, addresses):
        self._post("/add-a", {"host": name.rstrip(".") + ".", "addresses": list(addresses)})

    def clear_a(self, name):
        """Back to the default answer, A 127.0.0.1."""
        self._post("/clear-a", {"host": name.rstrip(".") + "."})

    def set_servfail(self, name):
        """Every query for NAME answered SERVFAIL (a broken zone)."""
        self._post("/set-servfail", {"host": name.rstrip(".") + "."})

    def clear_servfail(self, name):
        self._post("/clear-servfail", {"host": name.rstrip(".") + "."})

    def set_cname(self, name, target):
        self._post("/set-cname", {"host": name.rstrip(".") + ".",
                                  "target": target.rstrip(".") + "."})

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


class Pebble:
    """Pebble with its own TLS certificate (made with the openssl CLI), validating against
    CHALLTESTSRV's DNS (or any peer with a .resolver, such as Unbound) and connecting to
    HTTP_PORT/TLS_PORT for http-01/tls-alpn-01."""

    def __init__(self, workdir, challtestsrv, http_port, tls_port, env=None):
        require_pebble()
        self.dir = workdir / f"pebble-{free_port()}"
        self.dir.mkdir()
        self.cert = self.dir / "cert.pem"
        key = self.dir / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(self.cert),
             "-days", "7", "-subj", "/CN=localhost", "-addext",
             "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True)
        self.port = free_port()
        self.mgmt_port = free_port()
        cfg = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt_port}",
            "certificate": str(self.cert), "privateKey": str(key),
            "httpPort": http_port, "tlsPort": tls_port, "ocspResponderURL": "",
            "externalAccountBindingRequired": False}}
        cfg_path = self.dir / "pebble.json"
        cfg_path.write_text(json.dumps(cfg))
        self.env = dict(os.environ, PEBBLE_VA_NOSLEEP="1")
        self.env.update(env or {})
        self.cmd = [PEBBLE, "-config", str(cfg_path), "-dnsserver", challtestsrv.resolver,
                    "-strict", "false"]
        self.log = open(self.dir / "pebble.log", "ab")
        self._run()

    def _run(self):
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env)
        wait_until(lambda: port_answers(self.port) and port_answers(self.mgmt_port), 20,
                   "pebble to listen")

    def kill_and_restart(self):
        """SIGKILL, then the same Pebble on the same ports and TLS certificate. Pebble keeps
        nothing: accounts, orders and its root are new."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        wait_until(lambda: not port_answers(self.port), 10, "pebble to stop listening")
        self._run()

    @property
    def directory(self):
        return f"https://127.0.0.1:{self.port}/dir"

    def saasedge_args(self, name="pebble", default=True):
        args = [f"--ca.{name}.directory", self.directory, f"--ca.{name}.ca_bundle",
                str(self.cert)]
        if default:
            args += ["--issuance.default_ca", name]
        return args

    def _mgmt(self, path):
        ctx = ssl.create_default_context(cafile=str(self.cert))
        with urllib.request.urlopen(f"https://127.0.0.1:{self.mgmt_port}{path}", context=ctx,
                                    timeout=10) as r:
            return r.read().decode()

    def root_pem(self):
        return self._mgmt("/roots/0")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def edge_http_key():
    """The config key of the edge's HTTP listener when this build has an edge, else None."""
    return "edge.http_listen" if "edge.http_listen" in serve_help() else None


class SmtpSink:
    """The customers' mailboxes: an aiosmtpd server in this process (Debian python3-aiosmtpd) on
    a loopback port, keeping every message it accepts. start()/stop() may be called again on
    the same port (a mail server that was down and comes up). With TLS (the default) it offers
    and requires STARTTLS with a self-signed certificate for 127.0.0.1 (ca_file), as a real
    relay would; TLS=False is a server that cannot do STARTTLS (or one whose offer a man in
    the middle stripped)."""

    def __init__(self, port=None, start=True, tls=True):
        self.port = port or free_port()
        self.messages = []  # (mail_from, [rcpt_to...], email.message.Message)
        self.data_delay = 0  # seconds between taking a message and answering 250 (a slow relay)
        self.controller = None
        self.tls = tls
        self.ca_file = None
        if tls:
            self._make_certificate()
        if start:
            self.start()

    def _make_certificate(self):
        import tempfile
        from pathlib import Path

        d = Path(tempfile.mkdtemp(prefix="smtpsink-"))
        # Kept across stop() and start() (a relay down, then back); gone with the sink.
        weakref.finalize(self, shutil.rmtree, d, True)
        self.key_file, self.ca_file = d / "key.pem", d / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(self.key_file),
                        "-out", str(self.ca_file), "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)

    def start(self):
        import email
        import email.policy
        from aiosmtpd.controller import Controller

        sink = self

        class Keep:
            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.original_content,
                                               policy=email.policy.default)
                sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
                if sink.data_delay:
                    import asyncio
                    await asyncio.sleep(sink.data_delay)
                return "250 OK"

        tls = {}
        if self.tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(self.ca_file), str(self.key_file))
            tls = {"tls_context": ctx, "require_starttls": True}
        # A generous ready_timeout: the default second is short on a busy test machine.
        self.controller = Controller(Keep(), hostname="127.0.0.1", port=self.port,
                                     ready_timeout=15, **tls)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def wait(self, n=1, timeout=30):
        """The first N messages, once they have arrived."""
        wait_until(lambda: len(self.messages) >= n, timeout, f"{n} mail(s) at the SMTP sink")
        return self.messages[:n]
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"


class Unbound:
    """A real recursive resolver between the DNS clients (Pebble, saasedge's DCV lookups) and
    the two authoritative servers: a stub-zone sends ZONE to saasedge's dns role at
    127.0.0.1:ZONE_PORT, everything else is forwarded to CHALLTESTSRV, which does not follow a
    CNAME into another server itself. Runs unprivileged on a free loopback port, without DNSSEC
    validation and without caching, so that a value published a moment ago is what it answers."""

    def __init__(self, workdir, zone, zone_port, challtestsrv):
        if not os.access(UNBOUND, os.X_OK):
            pytest.fail(f"{UNBOUND} missing: run `make deps` (Debian package unbound)",
                        pytrace=False)
        self.port = free_port()
        self.dir = workdir / f"unbound-{self.port}"
        self.dir.mkdir()
        conf = self.dir / "unbound.conf"
        conf.write_text(f"""server:
    interface: 127.0.0.1
    port: {self.port}
    do-ip6: no
    username: ""
    chroot: ""
    directory: "{self.dir}"
    pidfile: ""
    use-syslog: no
    logfile: "{self.dir}/unbound.log"
    verbosity: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    domain-insecure: "."
    qname-minimisation: no
    cache-max-ttl: 0
    cache-max-negative-ttl: 0
    local-zone: "test." nodefault
    local-zone: "invalid." nodefault

stub-zone:
    name: "{zone}."
    stub-addr: 127.0.0.1@{zone_port}

forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{challtestsrv.dns_port}
""")
        check = subprocess.run(["unbound-checkconf", str(conf)], capture_output=True,
                               text=True)
        assert check.returncode == 0, f"unbound.conf: {check.stdout}{check.stderr}"
        self.log = open(self.dir / "unbound.stderr", "wb")
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", str(conf)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(lambda: port_answers(self.port), 15, "unbound to listen")

    @property
    def resolver(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


NAMED = shutil.which("named") or "/usr/sbin/named"


class Named:
    """BIND as the external primary of ZONE that saasedge pushes its TXT values to (RFC 2136),
    accepting updates of TXT records signed with the TSIG key KEY_NAME/secret (HMAC-SHA256)."""

    def __init__(self, workdir, zone, key_name="saasedge-key"):
        if not os.access(NAMED, os.X_OK):
            pytest.fail(f"{NAMED} missing: run `make deps` (Debian package bind9)",
                        pytrace=False)
        self.port = free_port()
        self.dir = workdir / f"named-{self.port}"
        self.dir.mkdir()
        self.key_name = key_name
        self.secret = base64.b64encode(os.urandom(32)).decode()
        (self.dir / "zone.db").write_text(
            f"$TTL 60\n@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 5\n"
            f"@ IN NS ns.{zone}.\nns IN A 127.0.0.1\n")
        conf = self.dir / "named.conf"
        conf.write_text(f"""options {{
    directory "{self.dir}";
    listen-on port {self.port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    pid-file none;
    session-keyfile none;
    recursion no;
    dnssec-validation no;
}};
controls {{ }};
key "{key_name}" {{ algorithm hmac-sha256; secret "{self.secret}"; }};
zone "{zone}" {{
    type primary;
    file "{self.dir}/zone.db";
    update-policy {{ grant {key_name} zonesub TXT; }};
}};
""")
        self.log = open(self.dir / "named.log", "wb")
        self.proc = subprocess.Popen([NAMED, "-g", "-c", str(conf)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(lambda: port_answers(self.port), 15, "named to listen")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()
