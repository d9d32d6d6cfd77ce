// Accounts with the official Cloudflare TypeScript SDK: client.accounts.get, client.zones.get
// (the zone's account), and account-level custom CSRs (client.customCsrs with account_id, the
// form the SDK's examples and Terraform v5 use), then a zone of the account uploading the
// certificate made from one. Reads SAASEDGE_BASE_URL, SAASEDGE_ACCOUNT_ID,
// SAASEDGE_ACCOUNT_TOKEN (an account's token), SAASEDGE_ACCOUNT_ZONE_ID (a zone of it) and
// SAASEDGE_SIGN_CMD (a command that reads a CSR on stdin and prints the certificate chain a CA
// made from it). Exits 0 when every check passed. Run by tests/integration/test_sdk.py.
import Cloudflare from 'cloudflare';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const env = process.env;
const baseURL = env.SAASEDGE_BASE_URL;
const account_id = env.SAASEDGE_ACCOUNT_ID;
const zone_id = env.SAASEDGE_ACCOUNT_ZONE_ID;
const client = new Cloudflare({ apiToken: env.SAASEDGE_ACCOUNT_TOKEN, baseURL, maxRetries: 0 });

let failures = 0;
let step = '';
function check(cond, what, got) {
  if (!cond) {
    failures += 1;
    console.error(`FAIL [${step}] ${what}${got === undefined ? '' : `: got ${JSON.stringify(got)}`}`);
  }
}
function eq(got, want, what) {
  check(JSON.stringify(got) === JSON.stringify(want), `${what}: want ${JSON.stringify(want)}`, got);
}

async function main() {
  step = 'accounts.get';
  const account = await client.accounts.get({ account_id });
  eq(account.id, account_id, 'id');
  check(typeof account.name === 'string' && account.name.length > 0, 'name', account.name);
  check(['standard', 'enterprise'].includes(account.type), 'type', account.type);

  step = 'zones.get';
  const zone = await client.zones.get({ zone_id });
  eq(zone.id, zone_id, 'id');
  eq(zone.account, { id: account_id, name: account.name }, 'account');
  eq(zone.status, 'active', 'status');

  step = 'customCsrs (account)';
  const host = `acct-${randomBytes(4).toString('hex')}.sdk-customer.com`;
  const csr = await client.customCsrs.create({
    account_id, common_name: host, country: 'US', state: 'MA', locality: 'Boston',
    organization: 'City of Boston', sans: [host], key_type: 'p256v1',
  });
  check(/-----BEGIN CERTIFICATE REQUEST-----/.test(csr.csr), 'csr PEM', csr.csr);
  eq(csr.account_tag, account_id, 'account_tag');
  const got = await client.customCsrs.get(csr.id, { account_id });
  eq(got.id, csr.id, 'get id');
  const listed = [];
  for await (const c of client.customCsrs.list({ account_id })) listed.push(c.id);
  eq(listed, [csr.id], 'list');
  const zoneList = [];
  for await (const c of client.customCsrs.list({ zone_id })) zoneList.push(c.id);
  eq(zoneList, [], 'not among the zone\'s own CSRs');

  step = 'upload with an account CSR';
  const chain = execFileSync('sh', ['-c', env.SAASEDGE_SIGN_CMD], { input: csr.csr }).toString();
  const h = await client.customHostnames.create({
    zone_id, hostname: host, ssl: { custom_csr_id: csr.id, custom_certificate: chain },
  });
  eq(h.ssl?.custom_csr_id, csr.id, 'ssl.custom_csr_id');
  await client.customHostnames.delete(h.id, { zone_id });

  step = 'customCsrs.delete (account)';
  await client.customCsrs.delete(csr.id, { account_id });
  try {
    await client.customCsrs.get(csr.id, { account_id });
    check(false, 'a deleted CSR was found');
  } catch (err) {
    eq(err.status, 404, 'status after delete');
  }
}

try {
  await main();
} catch (err) {
  failures += 1;
  console.error(`FAIL [${step}] unexpected ${err?.constructor?.name}: ${err?.message}`);
}
if (failures) {
  console.error(`sdk_accounts: ${failures} check(s) failed`);
  process.exit(1);
}
console.log('sdk_accounts: all checks passed');
