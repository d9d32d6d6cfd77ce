"""The official Cloudflare TypeScript SDK (npm `cloudflare`, pinned in tests/sdk/package.json)
against saasedge: tests/sdk/sdk_check.mjs (custom hostnames, fallback origin, quota) and
tests/sdk/sdk_accounts.mjs (accounts, zones, account-level CSRs) do the checks, this runs them
against a fresh server. `make deps` installs it with `npm ci --prefix tests/sdk`."""

import shutil
import subprocess

import pytest

from conftest import REPO, run_cli
from peers import ChallTestSrv
from pki import Pki

SDK_DIR = REPO / "tests" / "sdk"
DCV_ZONE = "dcv.saasedge.test"


def sdk_node():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    if not (SDK_DIR / "node_modules" / "cloudflare").is_dir():
        pytest.skip("tests/sdk/node_modules is missing: run `npm ci --prefix tests/sdk`")
    return node


def run_sdk(node, script, env):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", **env}
    p = subprocess.run([node, str(SDK_DIR / script)], cwd=SDK_DIR, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"{script} failed:\n{p.stdout}\n{p.stderr}"
    assert "all checks passed" in p.stdout


@pytest.fixture
def dns(tmp_path):
    srv = ChallTestSrv(tmp_path)
    yield srv
    srv.stop()


def test_typescript_sdk(deploy, dns):
    node = sdk_node()
    d = deploy()
    creds = d.zone()
    quota = d.zone(quota=1, hard_cap=2)
    # The issuer (internal CA) fills verification_errors and validation_records, whose types
    # the script checks; its lookups go to a DNS server that knows none of the names.
    d.start(roles="api,issuer", extra_args=["--dns.resolver", dns.resolver,
                                            "--dns.zone", DCV_ZONE])
    run_sdk(node, "sdk_check.mjs", {
        "HOME": str(d.root),
        "SAASEDGE_BASE_URL": d.server.base_url,
        "SAASEDGE_ZONE_ID": creds.zone_id,
        "SAASEDGE_TOKEN": creds.token,
        "SAASEDGE_QUOTA_ZONE_ID": quota.zone_id,
        "SAASEDGE_QUOTA_TOKEN": quota.token,
        "SAASEDGE_DCV_ZONE": DCV_ZONE,
    })


def test_typescript_sdk_accounts(deploy, tmp_path):
    node = sdk_node()
    pki = Pki(tmp_path / "pki")
    d = deploy()
    account = run_cli("account", "create", "SDK provider", data=d.data).stdout.strip()
    zone = run_cli("zone", "create", "sdk-accounts.com", "--account", account,
                   data=d.data).stdout.strip()
    token = run_cli("token", "create", "--account", account, data=d.data).stdout.strip()
    d.start(extra_args=[f"--edge.trust_bundle={pki.dir / 'root.pem'}"])
    # The customer's CA: signs the CSR on stdin with the names it asks for.
    sign = (f"openssl x509 -req -CA {pki.dir / 'int.pem'} -CAkey {pki.dir / 'int.key'} "
            f"-CAcreateserial -days 30 -copy_extensions copyall && cat {pki.dir / 'int.pem'}")
    run_sdk(node, "sdk_accounts.mjs", {
        "HOME": str(d.root),
        "SAASEDGE_BASE_URL": d.server.base_url,
        "SAASEDGE_ACCOUNT_ID": account,
        "SAASEDGE_ACCOUNT_TOKEN": token,
        "SAASEDGE_ACCOUNT_ZONE_ID": zone,
        "SAASEDGE_SIGN_CMD": sign,
    })
