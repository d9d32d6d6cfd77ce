// Drives a running saasedge with the official Cloudflare TypeScript SDK (npm `cloudflare`, the
// version pinned in package.json). Reads SAASEDGE_BASE_URL (…/client/v4), SAASEDGE_ZONE_ID and
// SAASEDGE_TOKEN from the environment, SAASEDGE_QUOTA_ZONE_ID/SAASEDGE_QUOTA_TOKEN for a zone
// created with --quota 1 when set, and SAASEDGE_DCV_ZONE (the server's dns.zone) when it has one.
// The server runs the issuer with the internal CA, so that verification_errors and
// validation_records get filled. Exits 0 when every check passed; otherwise prints what
// differed and exits 1. Run by tests/integration/test_sdk.py.
import Cloudflare from 'cloudflare';
import { randomBytes } from 'node:crypto';

const baseURL = process.env.SAASEDGE_BASE_URL;
const zone_id = process.env.SAASEDGE_ZONE_ID;
const apiToken = process.env.SAASEDGE_TOKEN;
if (!baseURL || !zone_id || !apiToken) {
  console.error('sdk_check: set SAASEDGE_BASE_URL, SAASEDGE_ZONE_ID and SAASEDGE_TOKEN');
  process.exit(2);
}

let requests = 0; // every HTTP request the SDK sends, retries included
const countingFetch = (url, init) => {
  requests += 1;
  return fetch(url, init);
};

// Default retry settings on purpose: saasedge's x-should-retry header must stop the retries.
const client = new Cloudflare({ apiToken, baseURL, fetch: countingFetch, timeout: 20000 });
// A base URL ending in '/' (as many users write it) must work too.
const slashClient = new Cloudflare({ apiToken, baseURL: baseURL + '/', maxRetries: 0 });

let failures = 0;
let step = '';
function check(cond, what, got) {
  if (!cond) {
    failures += 1;
    const shown = got === undefined ? '' : `: got ${JSON.stringify(got)}`;
    console.error(`FAIL [${step}] ${what}${shown}`);
  }
}
function eq(got, want, what) {
  check(JSON.stringify(got) === JSON.stringify(want), `${what}: want ${JSON.stringify(want)}`, got);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const tag = randomBytes(4).toString('hex');
const name = (label) => `${label}-${tag}.sdk-customer.com`;

async function main() {
  step = 'create';
  const host = name('app');
  const created = await client.customHostnames.create({
    zone_id,
    hostname: host,
    ssl: { method: 'http', type: 'dv', settings: { min_tls_version: '1.2' } },
    custom_metadata: { customer_id: '12345' },
  });
  check(UUID.test(created.id), 'id is a UUID', created.id);
  eq(created.hostname, host, 'hostname');
  eq(created.status, 'pending', 'status');
  eq(created.ssl?.method, 'http', 'ssl.method');
  eq(created.ssl?.type, 'dv', 'ssl.type');
  eq(created.ssl?.status, 'initializing', 'ssl.status');
  eq(created.ssl?.settings?.min_tls_version, '1.2', 'ssl.settings.min_tls_version');
  eq(created.custom_metadata, { customer_id: '12345' }, 'custom_metadata');
  eq(created.ownership_verification?.name, `_cf-custom-hostname.${host}`, 'ownership name');

  step = 'get';
  const got = await client.customHostnames.get(created.id, { zone_id });
  eq(got.id, created.id, 'id');
  eq(got.hostname, host, 'hostname');
  eq(got.created_at, created.created_at, 'created_at');
  eq(got.ssl?.id, created.ssl?.id, 'ssl.id');

  step = 'edit';
  const edited = await client.customHostnames.edit(created.id, {
    zone_id,
    custom_metadata: { customer_id: '67890', plan: 'pro' },
  });
  eq(edited.custom_metadata, { customer_id: '67890', plan: 'pro' }, 'custom_metadata');
  eq(edited.ssl?.id, created.ssl?.id, 'ssl.id kept');
  const reread = await client.customHostnames.get(created.id, { zone_id });
  eq(reread.custom_metadata, { customer_id: '67890', plan: 'pro' }, 'custom_metadata after get');

  step = 'edit ssl';
  const resslt = await client.customHostnames.edit(created.id, {
    zone_id,
    ssl: { method: 'txt', type: 'dv' },
  });
  eq(resslt.ssl?.method, 'txt', 'ssl.method');
  eq(resslt.ssl?.status, 'initializing', 'ssl.status');

  step = 'create more';
  const more = [];
  for (let i = 0; i < 11; i++) {
    more.push(await client.customHostnames.create({ zone_id, hostname: name(`page${i}`) }));
  }
  const all = [created.id, ...more.map((h) => h.id)];

  step = 'list: auto-pagination';
  const before = requests;
  const seen = [];
  for await (const h of client.customHostnames.list({ zone_id, per_page: 5 })) seen.push(h.id);
  eq(seen, all, 'every hostname once, in creation order');
  // 12 hostnames at 5 a page: pages 1, 2, 3 and the empty page 4 that ends the walk.
  eq(requests - before, 4, 'requests made by the walk');

  step = 'list: pages';
  const first = await client.customHostnames.list({ zone_id, per_page: 5 });
  eq(first.result.length, 5, 'page 1 size');
  eq(first.result_info?.total_count, 12, 'result_info.total_count');
  eq(first.result_info?.total_pages, 3, 'result_info.total_pages');
  check(first.hasNextPage(), 'page 1 has a next page');
  const pages = [];
  for await (const page of first.iterPages()) pages.push(page.result.length);
  eq(pages, [5, 5, 2, 0], 'page sizes (the SDK stops at the first empty page)');

  step = 'list: hostname.exact';
  const exact = [];
  for await (const h of client.customHostnames.list({ zone_id, hostname: { exact: host } })) {
    exact.push(h.id);
  }
  eq(exact, [created.id], 'exact match');

  step = 'list: hostname.contain / startsWith';
  const contain = [];
  for await (const h of client.customHostnames.list({ zone_id, per_page: 5,
    hostname: { contain: `page1-${tag}` } })) contain.push(h.hostname);
  eq(contain, [name('page1')], 'contain');
  const starts = [];
  const startsList = client.customHostnames.list({ zone_id, hostname: { startsWith: 'page' } });
  for await (const h of startsList) starts.push(h.id);
  eq(starts, more.map((h) => h.id), 'startsWith');

  step = 'list: filters';
  const sslOnly = [];
  for await (const h of client.customHostnames.list({ zone_id, ssl: 1 })) sslOnly.push(h.id);
  eq(sslOnly, [created.id], 'ssl=1');
  const notWild = [];
  for await (const h of client.customHostnames.list({ zone_id, wildcard: false, per_page: 50 })) {
    notWild.push(h.id);
  }
  eq(notWild, all, 'wildcard=false');
  const pendingDesc = [];
  for await (const h of client.customHostnames.list({ zone_id, hostname_status: 'pending',
    direction: 'desc', per_page: 50 })) pendingDesc.push(h.id);
  eq(pendingDesc, [...all].reverse(), 'hostname_status=pending, desc');

  step = 'trailing slash base URL';
  const viaSlash = await slashClient.customHostnames.get(created.id, { zone_id });
  eq(viaSlash.id, created.id, 'get through a base URL ending in /');

  step = 'duplicate';
  const beforeDup = requests;
  try {
    await client.customHostnames.create({ zone_id, hostname: host.toUpperCase() });
    check(false, 'a duplicate was accepted');
  } catch (err) {
    check(err instanceof Cloudflare.ConflictError, 'ConflictError', err?.constructor?.name);
    eq(err.status, 409, 'status');
    eq(err.errors?.[0]?.code, 1406, 'errors[0].code');
    eq(err.headers?.get?.('x-should-retry'), 'false', 'x-should-retry header');
  }
  eq(requests - beforeDup, 1, 'requests sent for the duplicate (no retry)');

  step = 'not found';
  try {
    await client.customHostnames.get('00000000-0000-4000-8000-000000000000', { zone_id });
    check(false, 'an unknown id was found');
  } catch (err) {
    check(err instanceof Cloudflare.NotFoundError, 'NotFoundError', err?.constructor?.name);
    eq(err.errors?.[0]?.code, 1436, 'errors[0].code');
  }

  step = 'bad request';
  try {
    await client.customHostnames.create({ zone_id, hostname: 'app.example.com' });
    check(false, 'example.com was accepted');
  } catch (err) {
    check(err instanceof Cloudflare.BadRequestError, 'BadRequestError', err?.constructor?.name);
    eq(err.errors?.[0]?.code, 1411, 'errors[0].code');
  }

  step = 'delete';
  const victim = more.pop();
  const del = await client.customHostnames.delete(victim.id, { zone_id });
  eq(del.id, victim.id, 'delete returns the id at the top level');
  try {
    await client.customHostnames.get(victim.id, { zone_id });
    check(false, 'the deleted hostname is still there');
  } catch (err) {
    eq(err.status, 404, 'status after delete');
  }
  const left = [];
  for await (const h of client.customHostnames.list({ zone_id })) left.push(h.id);
  eq(left, all.filter((id) => id !== victim.id), 'list after delete');

  step = 'fallback origin';
  try {
    await client.customHostnames.fallbackOrigin.get({ zone_id });
    check(false, 'a fallback origin exists before any was set');
  } catch (err) {
    check(err instanceof Cloudflare.NotFoundError, 'NotFoundError', err?.constructor?.name);
    eq(err.errors?.[0]?.code, 1551, 'errors[0].code');
  }
  const fo = await client.customHostnames.fallbackOrigin.update({
    zone_id,
    origin: 'fallback.sdk-provider.com',
  });
  eq(fo.origin, 'fallback.sdk-provider.com', 'origin');
  eq(fo.status, 'pending_deployment', 'status');
  const foGot = await client.customHostnames.fallbackOrigin.get({ zone_id });
  eq(foGot.origin, 'fallback.sdk-provider.com', 'origin (get)');
  const foDel = await client.customHostnames.fallbackOrigin.delete({ zone_id });
  eq(foDel.status, 'pending_deletion', 'status (delete)');
  try {
    await client.customHostnames.fallbackOrigin.get({ zone_id });
    check(false, 'the fallback origin is still there after delete');
  } catch (err) {
    eq(err.status, 404, 'status after delete');
  }

  step = 'quota';
  if (client.customHostnames.quota?.get) {
    const q = await client.customHostnames.quota.get({ zone_id });
    eq(q.used, 11, 'used');
    eq(q.exceeded, false, 'exceeded');
    check(q.allocated > 0 && q.hard_cap >= q.allocated, 'allocated and hard_cap', q);
    const qz = process.env.SAASEDGE_QUOTA_ZONE_ID;
    const qt = process.env.SAASEDGE_QUOTA_TOKEN;
    if (qz && qt) {
      const quotaClient = new Cloudflare({ apiToken: qt, baseURL, maxRetries: 0 });
      // The allocation (1) is soft: a second create succeeds and reads "exceeded"; the hard
      // cap (2) refuses the third.
      await quotaClient.customHostnames.create({ zone_id: qz, hostname: name('quota') });
      const at = await quotaClient.customHostnames.quota.get({ zone_id: qz });
      eq([at.allocated, at.used, at.exceeded, at.hard_cap], [1, 1, false, 2], 'quota at allocation');
      await quotaClient.customHostnames.create({ zone_id: qz, hostname: name('quota2') });
      const full = await quotaClient.customHostnames.quota.get({ zone_id: qz });
      eq([full.allocated, full.used, full.exceeded], [1, 2, true], 'quota zone full');
      try {
        await quotaClient.customHostnames.create({ zone_id: qz, hostname: name('quota3') });
        check(false, 'a create over the quota was accepted');
      } catch (err) {
        check(err instanceof Cloudflare.PermissionDeniedError, 'PermissionDeniedError',
          err?.constructor?.name);
        eq(err.errors?.[0]?.code, 1405, 'errors[0].code');
      }
    }
  } else {
    console.log('sdk_check: this SDK version has no customHostnames.quota; skipped');
  }

  await fieldTypes();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls get() until PRED(hostname) holds (the issuer fills some fields a moment after create).
async function waitFor(id, pred, what, seconds = 30) {
  let h;
  for (let i = 0; i < seconds * 10; i++) {
    h = await client.customHostnames.get(id, { zone_id });
    if (pred(h)) return h;
    await sleep(100);
  }
  check(false, `waited ${seconds}s for ${what}`, h);
  return h;
}

const isString = (v) => typeof v === 'string';

// The types of the SDK's CustomHostname where saasedge once differed: verification_errors are
// strings, ssl.settings is absent unless given, certificate_authority is left out for a CA
// outside Cloudflare's enum, dcv_delegation_records are {cname, cname_target}, and a PATCH of
// ssl.settings replaces them (so Terraform can remove one).
async function fieldTypes() {
  step = 'types: settings absent unless given';
  const plain = await client.customHostnames.create({
    zone_id, hostname: name('types'), ssl: { method: 'txt', type: 'dv' },
  });
  check(!('settings' in plain.ssl), 'no ssl.settings when none was given', plain.ssl);
  check(!('certificate_authority' in plain.ssl), 'no certificate_authority for the internal CA',
    plain.ssl);
  eq(plain.ssl.issuer, 'internal', 'ssl.issuer names the CA');

  step = 'types: verification_errors are strings';
  const failing = await waitFor(plain.id, (h) => (h.verification_errors ?? []).length > 0,
    'verification_errors');
  check(Array.isArray(failing.verification_errors), 'verification_errors is an array',
    failing.verification_errors);
  check((failing.verification_errors ?? []).every(isString), 'every element a string',
    failing.verification_errors);
  for await (const h of client.customHostnames.list({ zone_id, hostname: { exact: plain.hostname } })) {
    check((h.verification_errors ?? []).every(isString), 'list: every element a string',
      h.verification_errors);
  }

  step = 'types: validation records';
  const shown = await waitFor(plain.id, (h) => (h.ssl?.validation_records ?? []).length > 0,
    'ssl.validation_records');
  const rec = shown.ssl.validation_records[0];
  check(isString(rec.txt_name) && isString(rec.txt_value), 'txt_name and txt_value', rec);
  check((shown.ssl.validation_errors ?? []).every((e) => isString(e.message)),
    'validation_errors are objects with a message', shown.ssl.validation_errors);
  // cloudflare-go v0 reads the first record's fields at the top of ssl.
  eq([shown.ssl.txt_name, shown.ssl.txt_value], [rec.txt_name, rec.txt_value],
    'legacy ssl.txt_name/txt_value');
  const dcvZone = process.env.SAASEDGE_DCV_ZONE;
  if (dcvZone) {
    eq(shown.ssl.dcv_delegation_records, [{
      cname: `_acme-challenge.${plain.hostname}`,
      cname_target: `${plain.id.replaceAll('-', '')}.${dcvZone}`,
    }], 'ssl.dcv_delegation_records');
  }

  step = 'types: settings replaced by edit';
  const withSettings = await client.customHostnames.edit(plain.id, {
    zone_id, ssl: { method: 'txt', type: 'dv', settings: { min_tls_version: '1.2', http2: 'on' } },
  });
  eq(withSettings.ssl.settings, { http2: 'on', min_tls_version: '1.2' }, 'settings set');
  const oneRemoved = await client.customHostnames.edit(plain.id, {
    zone_id, ssl: { method: 'txt', type: 'dv', settings: { min_tls_version: '1.2' } },
  });
  eq(oneRemoved.ssl.settings, { min_tls_version: '1.2' }, 'a setting left out is removed');
  const allRemoved = await client.customHostnames.edit(plain.id, {
    zone_id, ssl: { method: 'txt', type: 'dv' },
  });
  check(!('settings' in allRemoved.ssl), 'ssl without settings removes them', allRemoved.ssl);
  const reread = await client.customHostnames.get(plain.id, { zone_id });
  check(!('settings' in reread.ssl), 'still none after get', reread.ssl);
}

try {
  await main();
} catch (err) {
  failures += 1;
  console.error(`FAIL [${step}] unexpected ${err?.constructor?.name}: ${err?.message}`);
  if (err?.stack) console.error(err.stack);
}
if (failures) {
  console.error(`sdk_check: ${failures} check(s) failed`);
  process.exit(1);
}
console.log(`sdk_check: all checks passed (${requests} requests)`);
