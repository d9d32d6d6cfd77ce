"""Delegated dns-01 (ssl.method "cname") end to end. The customer CNAMEs
_acme-challenge.<host> once to <label>.<dns.zone>; saasedge's dns role answers the TXT values
there. pebble-challtestsrv (the customer's DNS) does not follow a CNAME into another server, so a
real recursive resolver, unbound, sits between: it sends the DCV zone to saasedge's dns role and
everything else to challtestsrv. Pebble and saasedge's own lookups both ask unbound."""

import re
import socket
import struct
import subprocess

import pytest

from conftest import free_port, uniq, wait_until
from edge_helpers import edge_verifies, s_client
from issuance_helpers import (check_ssl_fields, create_ssl, key_algorithm, stored_certificates,
                              verify_chain, wait_records, wait_status)
from peers import ChallTestSrv, Named, Pebble, Unbound

ZONE = "dcv.saasedge.test"
TARGET_RE = re.compile(r"^[0-9a-f]{32}\." + re.escape(ZONE) + r"$")


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """challtestsrv, unbound and Pebble, with the ports saasedge's dns role and edge will use
    (every test's server takes the same ones, one test at a time)."""
    work = tmp_path_factory.mktemp("cname")
    ports = {"dns": free_port(), "https": free_port(), "http": free_port()}
    cts = ChallTestSrv(work)
    resolver = Unbound(work, ZONE, ports["dns"], cts)
    pebble = Pebble(work, resolver, http_port=ports["http"], tls_port=ports["https"])
    yield cts, resolver, pebble, ports
    pebble.stop()
    resolver.stop()
    cts.stop()


def start(d, net, extra=(), roles="api,issuer,edge,dns"):
    _, resolver, pebble, ports = net
    return d.start(roles=roles, extra_args=[
        "--dns.resolver", resolver.resolver, "--dns.zone", ZONE,
        f"--dns.listen=127.0.0.1:{ports['dns']}",
        f"--edge.https_listen=127.0.0.1:{ports['https']}",
        f"--edge.http_listen=127.0.0.1:{ports['http']}", *pebble.saasedge_args(), *extra])


def dig(port, qtype, name, *opts):
    """dig at saasedge's dns role -> (status, flags, answer lines, authority lines)."""
    out = subprocess.run(["dig", "-p", str(port), "@127.0.0.1", "+norecurse", "+time=3",
                          "+tries=1", *opts, qtype, name],
                         capture_output=True, text=True, timeout=20).stdout
    status = re.search(r"status: (\w+)", out)
    flags = re.search(r";; flags: ([a-z ]+);", out)
    sections, cur = {"ANSWER": [], "AUTHORITY": []}, None
    for line in out.splitlines():
        m = re.match(r";; (\w+) SECTION:", line)
        if m:
            cur = m.group(1)
        elif line.strip() and not line.startswith(";") and cur in sections:
            sections[cur].append(line.split())
    return (status.group(1) if status else out, flags.group(1).split() if flags else [],
            sections["ANSWER"], sections["AUTHORITY"])


def txt_values(answer):
    return sorted(r[4].strip('"') for r in answer if r[3] == "TXT")


def cname_record(h):
    records = h["ssl"]["validation_records"]
    assert len(records) == 1, records
    r = records[0]
    assert set(r) == {"cname", "cname_target"}, r
    assert TARGET_RE.match(r["cname_target"]), r
    # Stable per hostname: derived from its id, nothing the customer could change.
    assert r["cname_target"].startswith(h["id"].replace("-", "") + "."), (h["id"], r)
    return r


def wait_error(api, hid, text, timeout=30):
    def shown():
        errs = api.fetch(hid)["ssl"].get("validation_errors") or []
        return next((e["message"] for e in errs if text in e.get("message", "")), None)

    return wait_until(shown, timeout, f"validation_errors containing {text!r}")


DONE = ("pending_deployment", "active")


def test_dns_role_answers_udp_and_tcp(deploy, net):
    cts, _, _, ports = net
    d = deploy()
    creds = d.zone()
    # The internal CA without the CNAME: its records stay published while it waits.
    start(d, net, roles="api,issuer,dns")
    api = d.api(creds)
    host = uniq("dns")
    h = create_ssl(api, host, "cname", certificate_authority="internal")
    wait_records(api, h["id"])
    target = cname_record(api.fetch(h["id"]))["cname_target"]
    port = ports["dns"]

    for proto in ("+notcp", "+tcp"):
        status, flags, answer, _ = wait_until(
            lambda: (lambda r: r if r[2] else None)(dig(port, "TXT", target, proto)), 20,
            "the TXT value at the target")
        assert status == "NOERROR" and "aa" in flags, (proto, status, flags)
        assert len(txt_values(answer)) == 1 and re.match(r"^[0-9a-f]{32}$",
                                                         txt_values(answer)[0]), answer
        assert all(int(r[1]) <= 60 for r in answer), answer

        status, flags, answer, _ = dig(port, "SOA", ZONE, proto)
        assert status == "NOERROR" and "aa" in flags and answer[0][3] == "SOA", answer
        assert answer[0][4] == f"ns.{ZONE}." and 0 <= int(answer[0][-1]) <= 60, answer
        status, _, answer, _ = dig(port, "NS", ZONE, proto)
        assert status == "NOERROR" and [r[4] for r in answer] == [f"ns.{ZONE}."], answer

        for name in (f"{'0' * 32}.{ZONE}", f"x.{target}"):
            status, flags, answer, auth = dig(port, "TXT", name, proto)
            assert status == "NXDOMAIN" and "aa" in flags and not answer, (name, status)
            assert auth and auth[0][3] == "SOA", auth
        status, _, answer, auth = dig(port, "A", target, proto)  # the name has TXT only
        assert status == "NOERROR" and not answer and auth[0][3] == "SOA", (status, auth)

        status, flags, answer, _ = dig(port, "TXT", f"_acme-challenge.{host}", proto)
        assert status == "REFUSED" and not answer and "aa" not in flags, status

    # Garbage that still has a header: FORMERR with the query's id; no answer to a response.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + b"\xff\x01garbage",
                 ("127.0.0.1", port))
        reply, _ = s.recvfrom(4096)
        rid, flags = struct.unpack(">HH", reply[:4])
        assert rid == 0x4242 and flags & 0x8000 and flags & 0xF == 1, reply  # QR, FORMERR
    # Silent TCP clients, one of them half-way through a message, do not hold up the others.
    with socket.create_connection(("127.0.0.1", port), timeout=3), \
            socket.create_connection(("127.0.0.1", port), timeout=3) as partial:
        partial.sendall(b"\x00\x40\x12")
        assert dig(port, "SOA", ZONE, "+tcp")[0] == "NOERROR"
        assert dig(port, "SOA", ZONE)[0] == "NOERROR"

    # Deleting the hostname withdraws its values.
    assert api.delete(h["id"]).status_code == 200
    assert dig(port, "TXT", target)[0] == "NXDOMAIN"


def test_cname_without_a_dns_zone_is_explained(deploy, net):
    d = deploy()
    creds = d.zone()
    d.start(roles="api,issuer,dns", extra_args=["--dns.resolver", net[1].resolver])
    api = d.api(creds)
    h = create_ssl(api, uniq("nozone"), "cname", certificate_authority="internal")

    msg = wait_error(api, h["id"], "dns.zone")

    assert msg == ("DCV method cname needs the dns role's zone: this server has no dns.zone"
                   " configured; use txt or http"), msg
    assert api.fetch(h["id"])["ssl"]["status"] == "initializing"


def test_cname_via_acme_to_active_through_the_edge(deploy, net, tmp_path):
    cts, _, pebble, ports = net
    d = deploy()
    creds = d.zone()
    start(d, net)
    api = d.api(creds)
    host = uniq("cname")
    h = create_ssl(api, host, "cname")
    wait_records(api, h["id"])
    r = cname_record(api.fetch(h["id"]))
    assert r["cname"] == f"_acme-challenge.{host}", r

    msg = wait_error(api, h["id"], "not found")
    assert msg == f"CNAME record _acme-challenge.{host} not found: expected {r['cname_target']}"
    assert api.fetch(h["id"])["ssl"]["status"] == "pending_validation"
    cts.set_cname(r["cname"], r["cname_target"])

    h = wait_status(api, h["id"], DONE)

    assert "certificate_authority" not in h["ssl"], h["ssl"]  # Pebble: not Cloudflare's enum
    assert delegation_record(h) == r
    assert not h["ssl"].get("validation_errors"), h["ssl"]
    check_ssl_fields(h, [host])
    root = tmp_path / "pebble-root.pem"
    root.write_text(pebble.root_pem())
    certs = stored_certificates(d.data, h["ssl"]["id"])
    assert set(certs) == {"ecdsa", "rsa"}, certs.keys()
    for kind, (leaf, chain) in certs.items():
        assert key_algorithm(leaf) == ("ec" if kind == "ecdsa" else "rsa")
        verify_chain(tmp_path, root.read_text(), leaf, chain, host)
    assert edge_verifies(ports["https"], host, root)
    wait_status(api, h["id"], "active")
    assert edge_verifies(ports["https"], host, root, "-sigalgs", "RSA-PSS+SHA256:RSA-PSS+SHA384",
                         "-tls1_3")
    wait_status(api, h["id"], "active")  # the edge served it
    # Issued: the values are withdrawn from the zone.
    assert dig(ports["dns"], "TXT", r["cname_target"])[0] == "NXDOMAIN"


def test_wildcard_via_cname(deploy, net, tmp_path):
    cts, _, pebble, ports = net
    d = deploy()
    creds = d.zone()
    start(d, net)
    api = d.api(creds)
    host = uniq("wcname")
    h = create_ssl(api, host, "cname", wildcard=True)
    # The target is known from the id: the customer can set the CNAME before any record shows.
    target = f"{h['id'].replace('-', '')}.{ZONE}"
    cts.set_cname(f"_acme-challenge.{host}", target)
    wait_records(api, h["id"])
    assert cname_record(api.fetch(h["id"])) == {"cname": f"_acme-challenge.{host}",
                                                 "cname_target": target}

    h = wait_status(api, h["id"], DONE)

    check_ssl_fields(h, [host, f"*.{host}"])
    root = tmp_path / "pebble-root.pem"
    root.write_text(pebble.root_pem())
    for leaf, chain in stored_certificates(d.data, h["ssl"]["id"]).values():
        verify_chain(tmp_path, root.read_text(), leaf, chain, f"x.{host}")
    # The edge routes x.<host> only for a "*.<host>" hostname; it serves <host> this pack.
    assert edge_verifies(ports["https"], host, root)
    wait_status(api, h["id"], "active")


def delegation_record(h):
    """ssl.dcv_delegation_records: the one CNAME a customer publishes to delegate dns-01."""
    host = h["hostname"][2:] if h["hostname"].startswith("*.") else h["hostname"]
    records = h["ssl"]["dcv_delegation_records"]
    assert records == [{"cname": f"_acme-challenge.{host}",
                        "cname_target": f"{h['id'].replace('-', '')}.{ZONE}"}], records
    return records[0]


@pytest.mark.parametrize("ca", ["pebble", "internal"])
def test_txt_hostname_validated_through_its_delegation_record(deploy, net, ca):
    """Cloudflare's delegated DCV for a client that knows only http, txt and email: a txt
    hostname shows dcv_delegation_records from the start; the customer CNAMEs as they say and
    publishes no TXT value, and the certificate is issued (the issuer publishes the values in
    the delegation zone as well as showing them in validation_records)."""
    cts, _, _, ports = net
    d = deploy()
    creds = d.zone()
    start(d, net, roles="api,issuer,dns")
    api = d.api(creds)
    host = uniq("deltxt")
    h = create_ssl(api, host, "txt", certificate_authority=ca)
    r = delegation_record(h)
    cts.set_cname(r["cname"], r["cname_target"])
    records = wait_records(api, h["id"])
    # validation_records keep Cloudflare's txt form, copied at the top of ssl for cloudflare-go v0
    assert {tuple(sorted(x)) for x in records} == {("txt_name", "txt_value")}, records
    shown = api.fetch(h["id"])["ssl"]
    assert (shown["txt_name"], shown["txt_value"]) == (records[0]["txt_name"],
                                                       records[0]["txt_value"]), shown

    h = wait_status(api, h["id"], DONE)

    assert delegation_record(h) == r
    assert not h["ssl"].get("validation_errors"), h["ssl"]
    check_ssl_fields(h, [host])
    # Neither Pebble nor saasedge's own CA is in Cloudflare's enum (decisions/0030).
    assert "certificate_authority" not in h["ssl"], h["ssl"]
    assert dig(ports["dns"], "TXT", r["cname_target"])[0] == "NXDOMAIN"


def test_internal_ca_via_cname(deploy, net, tmp_path):
    cts, _, _, ports = net
    d = deploy()
    creds = d.zone()
    start(d, net)
    api = d.api(creds)
    host = uniq("icname")
    h = create_ssl(api, host, "cname", certificate_authority="internal")
    wait_records(api, h["id"])
    r = cname_record(api.fetch(h["id"]))
    cts.set_cname(r["cname"], "elsewhere.saas-customer.com")
    msg = wait_error(api, h["id"], "points to")
    assert msg == (f"CNAME record _acme-challenge.{host} points to elsewhere.saas-customer.com.:"
                   f" expected {r['cname_target']}"), msg
    cts.set_cname(r["cname"], r["cname_target"])

    h = wait_status(api, h["id"], DONE)

    assert "certificate_authority" not in h["ssl"], h["ssl"]
    check_ssl_fields(h, [host])
    root = d.data / "ca" / "root.pem"
    for leaf, chain in stored_certificates(d.data, h["ssl"]["id"]).values():
        verify_chain(tmp_path, root.read_text(), leaf, chain, host)
    assert edge_verifies(ports["https"], host, root)
    wait_status(api, h["id"], "active")


def test_renewal_needs_nothing_more_from_the_customer(deploy, net):
    cts, _, _, ports = net
    d = deploy()
    creds = d.zone()
    # Certificates live 60 s and renew 50-55 s before they expire: a renewal within seconds.
    start(d, net, ["--issuance.internal_validity", "60", "--issuance.renew_before", "50"],
          roles="api,issuer,dns")
    api = d.api(creds)
    host = uniq("rcname")
    h = create_ssl(api, host, "cname", certificate_authority="internal")
    cts.set_cname(f"_acme-challenge.{host}", f"{h['id'].replace('-', '')}.{ZONE}")
    h = wait_status(api, h["id"], DONE)
    first = {c["fingerprint_sha256"] for c in h["ssl"]["certificates"]}

    def renewed():
        cur = api.fetch(h["id"])
        fps = {c["fingerprint_sha256"] for c in cur["ssl"].get("certificates", [])}
        return cur if len(fps) == 2 and not fps & first else None

    cur = wait_until(renewed, 40, "renewed certificates", interval=0.05)

    assert cur["ssl"]["expires_on"] > h["ssl"]["expires_on"]
    assert not cur["ssl"].get("validation_errors"), cur["ssl"]


def test_values_pushed_to_an_external_server_with_tsig(deploy, net, tmp_path):
    """dns.update_server: the values go to BIND by RFC 2136 UPDATE (TSIG-signed) and the
    resolver finds them there; saasedge's own dns role is not asked."""
    cts = net[0]
    named = Named(tmp_path, ZONE)
    resolver = Unbound(tmp_path, ZONE, named.port, cts)
    try:
        d = deploy()
        creds = d.zone()
        d.start(roles="api,issuer,dns", extra_args=[
            "--dns.resolver", resolver.resolver, "--dns.zone", ZONE,
            "--dns.update_server", named.address, "--dns.tsig_name", named.key_name],
            env={"SAASEDGE_DNS_TSIG_SECRET": named.secret})
        api = d.api(creds)
        host = uniq("push")
        h = create_ssl(api, host, "cname", certificate_authority="internal")
        target = f"{h['id'].replace('-', '')}.{ZONE}"

        status, _, answer, _ = wait_until(
            lambda: (lambda r: r if r[2] else None)(dig(named.port, "TXT", target)), 20,
            "the TXT value at the external server")
        assert status == "NOERROR" and re.match(r"^[0-9a-f]{32}$", txt_values(answer)[0])
        cts.set_cname(f"_acme-challenge.{host}", target)

        h = wait_status(api, h["id"], DONE)

        assert "certificate_authority" not in h["ssl"], h["ssl"]
        wait_until(lambda: dig(named.port, "TXT", target)[0] == "NXDOMAIN", 20,
                   "the value withdrawn from the external server")
        assert "/key saasedge-key: updating zone" in (named.dir / "named.log").read_text()
        assert named.secret not in d.server.stderr()
    finally:
        resolver.stop()
        named.stop()


def test_push_with_a_wrong_tsig_secret_is_refused_and_logged(deploy, net, tmp_path):
    named = Named(tmp_path, ZONE)
    wrong = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE="
    try:
        d = deploy()
        creds = d.zone()
        d.start(roles="api,issuer,dns", extra_args=[
            "--dns.resolver", net[1].resolver, "--dns.zone", ZONE,
            "--dns.update_server", named.address, "--dns.tsig_name", named.key_name],
            env={"SAASEDGE_DNS_TSIG_SECRET": wrong})
        api = d.api(creds)
        h = create_ssl(api, uniq("badkey"), "cname", certificate_authority="internal")
        target = f"{h['id'].replace('-', '')}.{ZONE}"

        line = wait_until(lambda: next((ln for ln in d.server.stderr().splitlines()
                                        if "dns update failed" in ln), None), 20,
                          "a failed update in the log")

        assert f"label={target.split('.')[0]}" in line and named.address in line, line
        assert dig(named.port, "TXT", target)[0] == "NXDOMAIN"
        assert wrong not in d.server.stderr()
    finally:
        named.stop()
