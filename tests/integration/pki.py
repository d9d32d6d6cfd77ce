"""A throwaway PKI made with the OpenSSL CLI at test time: a root, an intermediate, and leaves
signed from CSRs (ours or saasedge's), for the custom-certificate tests."""

import subprocess
from pathlib import Path


def openssl(*args, input=None, check=True):
    r = subprocess.run(["openssl", *map(str, args)], input=input, capture_output=True,
                       text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))} failed: {r.stderr}")
    return r


def new_key(path, kind="ec"):
    if kind == "ec":
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", path)
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
    return Path(path)


class Pki:
    """DIR/root.pem signs DIR/int.pem, which signs the leaves."""

    def __init__(self, root_dir, name="saasedge test"):
        self.dir = Path(root_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0
        d = self.dir
        new_key(d / "root.key")
        openssl("req", "-x509", "-new", "-key", d / "root.key", "-out", d / "root.pem",
                "-days", "30", "-subj", f"/O={name}/CN={name} root",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        new_key(d / "int.key")
        openssl("req", "-new", "-key", d / "int.key", "-out", d / "int.csr",
                "-subj", f"/O={name}/CN={name} intermediate")
        self._ext(d / "int.ext", "basicConstraints=critical,CA:TRUE,pathlen:0\n"
                  "keyUsage=critical,keyCertSign,cRLSign\n")
        openssl("x509", "-req", "-in", d / "int.csr", "-CA", d / "root.pem", "-CAkey",
                d / "root.key", "-CAcreateserial", "-out", d / "int.pem", "-days", "30",
                "-extfile", d / "int.ext")
        self.root = (d / "root.pem").read_text()
        self.intermediate = (d / "int.pem").read_text()

    def _ext(self, path, text):
        Path(path).write_text(text)
        return path

    def _next(self):
        self.n += 1
        return self.dir / f"leaf{self.n}"

    def sign_csr(self, csr_pem, names, days=30, issuer="int"):
        """A leaf for CSR_PEM with SANs NAMES, signed by the intermediate (or the root)."""
        base = self._next()
        Path(f"{base}.csr").write_text(csr_pem)
        sans = ",".join(f"DNS:{n}" for n in names)
        ext = self._ext(f"{base}.ext", f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                        "extendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", f"{base}.csr", "-CA", self.dir / f"{issuer}.pem",
                "-CAkey", self.dir / f"{issuer}.key", "-CAcreateserial", "-out",
                f"{base}.pem", "-days", str(days), "-extfile", ext)
        return Path(f"{base}.pem").read_text()

    def leaf(self, names, kind="ec", days=30, issuer="int"):
        """(certificate PEM with the intermediate after it when it signed, key PEM) of a new
        key signed for NAMES: what a customer uploads (no AIA chasing here)."""
        base = self._next()
        new_key(f"{base}.key", kind)
        openssl("req", "-new", "-key", f"{base}.key", "-out", f"{base}.csr",
                "-subj", f"/CN={names[0]}")
        cert = self.sign_csr(Path(f"{base}.csr").read_text(), names, days, issuer)
        if issuer == "int":
            cert += self.intermediate
        return cert, Path(f"{base}.key").read_text()

    def self_signed(self, names, kind="ec"):
        base = self._next()
        new_key(f"{base}.key", kind)
        sans = ",".join(f"DNS:{n}" for n in names)
        openssl("req", "-x509", "-new", "-key", f"{base}.key", "-out", f"{base}.pem",
                "-days", "30", "-subj", f"/CN={names[0]}", "-addext",
                f"subjectAltName={sans}", "-addext", "basicConstraints=CA:FALSE")
        return Path(f"{base}.pem").read_text(), Path(f"{base}.key").read_text()


def key_base64(key_pem):
    """The base64 body of a PEM key, joined: what a leak would most likely show."""
    return "".join(l for l in key_pem.splitlines() if l and not l.startswith("-----"))
