"""The official Cloudflare TypeScript SDK (npm `cloudflare`, pinned in tests/sdk/package.json)
against saasedge: tests/sdk/sdk_check.mjs does the checks, this runs it against a fresh server.
`make deps` installs it with `npm ci --prefix tests/sdk`."""

import shutil
import subprocess

import pytest

from conftest import REPO

SDK_DIR = REPO / "tests" / "sdk"


def test_typescript_sdk(deploy):
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    if not (SDK_DIR / "node_modules" / "cloudflare").is_dir():
        pytest.skip("tests/sdk/node_modules is missing: run `npm ci --prefix tests/sdk`")
    d = deploy()
    creds = d.zone()
    quota = d.zone(quota=1, hard_cap=2)
    d.start()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(d.root),
        "SAASEDGE_BASE_URL": d.server.base_url,
        "SAASEDGE_ZONE_ID": creds.zone_id,
        "SAASEDGE_TOKEN": creds.token,
        "SAASEDGE_QUOTA_ZONE_ID": quota.zone_id,
        "SAASEDGE_QUOTA_TOKEN": quota.token,
    }
    p = subprocess.run([node, str(SDK_DIR / "sdk_check.mjs")], cwd=SDK_DIR, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"sdk_check.mjs failed:\n{p.stdout}\n{p.stderr}"
    assert "all checks passed" in p.stdout
