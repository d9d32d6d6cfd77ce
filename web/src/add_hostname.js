// Add Custom Hostname: the options the seeds list, sent as one POST. The API's own error is
// shown next to the field it is about (by Cloudflare error code), and nothing is created.
import { html, useState } from "./vendor/preact-htm.js";
import { call, hostnamesPath } from "./api.js";
import { ErrorBox, Field, describedBy } from "./ui.js";

const METHODS = [
  ["http", "HTTP", "The edge answers the CA's HTTP request once the customer's DNS points at you."],
  ["txt", "TXT", "The customer adds a TXT record that you give them."],
  ["email", "Email", "The domain's administrators approve by email (internal CA only)."],
  ["cname", "CNAME", "The customer delegates _acme-challenge to you once; renewals need nothing."],
];
const CAS = ["internal", "lets_encrypt", "google", "ssl_com"];

// Which field an API error code is about; anything else is shown above the form.
const FIELD_OF_CODE = {
  1406: "hostname", 1407: "hostname", 1408: "hostname", 1409: "hostname", 1410: "hostname",
  1411: "hostname", 1401: "metadata", 1412: "metadata", 1415: "origin", 1416: "origin",
  1420: "origin", 1425: "min-tls", 1432: "method", 1433: "method", 1440: "method",
  1448: "wildcard",
};

export function fieldOfError(error) {
  if (!error || !error.errors) return null;
  const code = error.code;
  if (code === 1434 && /certificate_authority/.test(error.message)) return "ca";
  return FIELD_OF_CODE[code] || null;
}

// Custom metadata rows as {key: value}; rows without a key are left out.
export function metadataObject(rows) {
  const out = {};
  for (const { key, value } of rows) if (key.trim()) out[key.trim()] = value;
  return Object.keys(out).length ? out : undefined;
}

export function MetadataEditor({ rows, setRows, error }) {
  const update = (i, part, v) => setRows(rows.map((r, j) => (j === i ? { ...r, [part]: v } : r)));
  return html`<fieldset class=${`field${error ? " field-error" : ""}`}>
    <legend>Custom metadata <span class="optional">(optional)</span></legend>
    ${rows.map((r, i) => html`<div class="metadata-row">
      <label for=${`meta-key-${i}`} class="visually-hidden">Key ${i + 1}</label>
      <input id=${`meta-key-${i}`} placeholder="key" value=${r.key}
        onInput=${(e) => update(i, "key", e.target.value)} />
      <label for=${`meta-value-${i}`} class="visually-hidden">Value ${i + 1}</label>
      <input id=${`meta-value-${i}`} placeholder="value" value=${r.value}
        onInput=${(e) => update(i, "value", e.target.value)} />
      <button type="button" aria-label=${`Remove metadata row ${i + 1}`}
        onClick=${() => setRows(rows.filter((_, j) => j !== i))}>Remove</button>
    </div>`)}
    <button type="button" onClick=${() => setRows([...rows, { key: "", value: "" }])}>Add metadata</button>
    ${error ? html`<p class="error" id="metadata-error" role="alert">${error}</p>` : ""}
  </fieldset>`;
}

export function AddHostnamePage({ credential, zoneId, navigate }) {
  const [form, setForm] = useState({ hostname: "", method: "http", minTls: "", origin: "",
    sni: "", wildcard: false, ca: "" });
  const [metadata, setMetadata] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const wildcardAllowed = form.method !== "http";
  const at = fieldOfError(error);
  const err = (name) => (at === name ? error.message : null);

  const submit = async (ev) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    const ssl = { method: form.method, type: "dv" };
    if (form.minTls) ssl.settings = { min_tls_version: form.minTls };
    if (form.wildcard && wildcardAllowed) ssl.wildcard = true;
    if (form.ca) ssl.certificate_authority = form.ca;
    const body = { hostname: form.hostname.trim(), ssl };
    if (form.origin.trim()) body.custom_origin_server = form.origin.trim();
    if (form.sni.trim()) body.custom_origin_sni = form.sni.trim();
    const meta = metadataObject(metadata);
    if (meta) body.custom_metadata = meta;
    try {
      const e = await call(credential, "POST", hostnamesPath(zoneId), body);
      navigate(`#/hostnames/${e.result.id}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return html`<section aria-labelledby="page-title">
    <p><a href="#/">← Custom Hostnames</a></p>
    <h1 id="page-title">Add Custom Hostname</h1>
    <form class="card form" onSubmit=${submit} novalidate>
      ${error && !at ? html`<${ErrorBox} error=${error} />` : ""}
      <${Field} id="hostname" label="Custom hostname" hint="The customer's domain, for example app.customer.com."
        error=${err("hostname")}>
        <input id="hostname" name="hostname" required autocomplete="off" value=${form.hostname}
          aria-invalid=${err("hostname") ? "true" : undefined}
          aria-describedby=${describedBy("hostname", true, err("hostname"))} onInput=${set("hostname")} />
      <//>
      <fieldset class=${`field${err("method") ? " field-error" : ""}`} aria-describedby=${err("method") ? "method-error" : undefined}>
        <legend>Certificate validation method</legend>
        ${METHODS.map(([value, label, hint]) => html`<div class="radio">
          <input type="radio" id=${`method-${value}`} name="method" value=${value}
            checked=${form.method === value} onChange=${set("method")} />
          <label for=${`method-${value}`}>${label}</label>
          <span class="hint">${hint}</span></div>`)}
        ${err("method") ? html`<p class="error" id="method-error" role="alert">${err("method")}</p>` : ""}
      </fieldset>
      <${Field} id="cert-type" label="Certificate type">
        <select id="cert-type" disabled><option>Domain validated (dv)</option></select>
      <//>
      <${Field} id="min-tls" label="Minimum TLS version" error=${err("min-tls")}>
        <select id="min-tls" value=${form.minTls} onChange=${set("minTls")}
          aria-describedby=${describedBy("min-tls", null, err("min-tls"))}>
          <option value="">Default</option>
          ${["1.0", "1.1", "1.2", "1.3"].map((v) => html`<option value=${v}>TLS ${v}</option>`)}
        </select>
      <//>
      <div class=${`field checkbox${err("wildcard") ? " field-error" : ""}`}>
        <input type="checkbox" id="wildcard" checked=${form.wildcard && wildcardAllowed}
          disabled=${!wildcardAllowed} onChange=${set("wildcard")}
          aria-describedby="wildcard-hint" />
        <label for="wildcard">Wildcard: also cover *.${form.hostname.trim() || "hostname"}</label>
        <p class="hint" id="wildcard-hint">${wildcardAllowed
          ? "The certificate also covers every name one level below the hostname."
          : "Not with HTTP validation: a CA validates a wildcard only through DNS (TXT or CNAME) or email."}</p>
        ${err("wildcard") ? html`<p class="error" role="alert">${err("wildcard")}</p>` : ""}
      </div>
      <${Field} id="origin" label="Custom origin server (optional)"
        hint="Send this hostname's traffic here instead of the fallback origin." error=${err("origin")}>
        <input id="origin" value=${form.origin} autocomplete="off" placeholder="origin.saasprovider.com"
          aria-invalid=${err("origin") ? "true" : undefined}
          aria-describedby=${describedBy("origin", true, err("origin"))} onInput=${set("origin")} />
      <//>
      <${Field} id="sni" label="Custom origin SNI (optional)" hint="The server name sent to the origin in TLS.">
        <input id="sni" value=${form.sni} autocomplete="off" aria-describedby="sni-hint" onInput=${set("sni")} />
      <//>
      <${MetadataEditor} rows=${metadata} setRows=${setMetadata} error=${err("metadata")} />
      <${Field} id="ca" label="Certificate authority (optional)" hint="Empty: the server's default CA."
        error=${err("ca")}>
        <input id="ca" list="ca-names" value=${form.ca} autocomplete="off"
          aria-describedby=${describedBy("ca", true, err("ca"))} onInput=${set("ca")} />
        <datalist id="ca-names">${CAS.map((c) => html`<option value=${c} />`)}</datalist>
      <//>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Add Custom Hostname</button>
        <a class="button" href="#/">Cancel</a>
      </div>
    </form>
  </section>`;
}
