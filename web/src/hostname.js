// One custom hostname: its status moving live until active, the records to hand to the
// customer, validation errors, the certificates, and the actions (recheck, edit, upload,
// delete).
import { html, useEffect, useState } from "./vendor/preact-htm.js";
import { call, hostnamesPath } from "./api.js";
import { MetadataEditor, fieldOfError, metadataObject } from "./add_hostname.js";
import { UploadCertificate, PackCertificates } from "./custom_certs.js";
import { CopyValue, ErrorBox, Field, StatusBadge, Stepper, dateTime, tone } from "./ui.js";

// How often the page asks again: often while the certificate moves, seldom while only the
// hostname's ownership is outstanding (the customer's DNS may take hours), never once settled.
function pollInterval(h) {
  const s = h.ssl && h.ssl.status;
  if (s !== "active" && tone(s) !== "bad") return 2000;
  return h.status === "active" ? 0 : 15000;
}

function OwnershipRecords({ h }) {
  if (h.status === "active") return "";
  const txt = h.ownership_verification;
  const http = h.ownership_verification_http;
  return html`<section class="card" aria-labelledby="ownership-title">
    <h2 id="ownership-title">Hostname ownership</h2>
    <p class="hint">The customer proves the hostname is theirs with one of these, or by pointing
      it at you (CNAME) so that it resolves to your edge.</p>
    <dl class="records">
      ${txt ? html`<${CopyValue} label="Ownership TXT name" value=${txt.name} />
        <${CopyValue} label="Ownership TXT value" value=${txt.value} />` : ""}
      ${http ? html`<${CopyValue} label="Ownership HTTP URL" value=${http.http_url} />
        <${CopyValue} label="Ownership HTTP body" value=${http.http_body} />` : ""}
    </dl>
  </section>`;
}

function ValidationRecord({ r, n }) {
  const tag = n > 1 ? ` ${n}` : "";
  return html`
    ${r.txt_name ? html`<${CopyValue} label=${`Certificate validation TXT name${tag}`} value=${r.txt_name} />` : ""}
    ${r.txt_value ? html`<${CopyValue} label=${`Certificate validation TXT value${tag}`} value=${r.txt_value} />` : ""}
    ${r.http_url ? html`<${CopyValue} label=${`Certificate validation HTTP URL${tag}`} value=${r.http_url} />` : ""}
    ${r.http_body ? html`<${CopyValue} label=${`Certificate validation HTTP body${tag}`} value=${r.http_body} />` : ""}
    ${r.cname ? html`<${CopyValue} label=${`CNAME${tag}`} value=${r.cname} />` : ""}
    ${r.cname_target ? html`<${CopyValue} label=${`CNAME target${tag}`} value=${r.cname_target} />` : ""}
    ${(r.emails || []).length ? html`<div class="copy-value"><dt>Approval email addresses</dt>
      <dd><ul class="emails">${r.emails.map((e) => html`<li><code>${e}</code></li>`)}</ul></dd></div>` : ""}`;
}

function CertificateValidation({ ssl }) {
  const records = ssl.validation_records || [];
  const delegation = ssl.dcv_delegation_records || [];
  if (!records.length && !delegation.length) return "";
  const many = records.filter((r) => r.txt_value).length > 1;
  return html`<section class="card" aria-labelledby="dcv-title">
    <h2 id="dcv-title">Certificate validation</h2>
    ${many ? html`<p class="hint">The CA needs every one of these TXT values at the same name:
      the customer adds them all, once.</p>` : ""}
    ${ssl.method === "email" ? html`<p class="hint">An approval link was mailed to these
      addresses; one approval is enough.</p>` : ""}
    <dl class="records">
      ${records.map((r, i) => html`<${ValidationRecord} r=${r} n=${many ? i + 1 : 1} />`)}
      ${delegation.map((r) => html`<${CopyValue} label="Delegation CNAME" value=${r.cname} />
        <${CopyValue} label="Delegation CNAME target" value=${r.cname_target} />`)}
    </dl>
  </section>`;
}

function Problems({ h }) {
  const lines = [...(h.verification_errors || []),
    ...((h.ssl && h.ssl.validation_errors) || []).map((e) => e.message)];
  if (!lines.length) return "";
  return html`<div class="alert" role="status" aria-labelledby="problems-title">
    <h2 id="problems-title">What is still missing</h2>
    <ul>${lines.map((m) => html`<li>${m}</li>`)}</ul></div>`;
}

// The API lists a pack's ECDSA certificate before its RSA one; a pack of one uploaded
// certificate does not say which it is (Cloudflare's certificate object has no key type).
const keyFamily = (certs, i) => (certs.length === 2 ? ["ECDSA", "RSA"][i] : "–");

function Certificates({ h, credential, zoneId, reload }) {
  const certs = (h.ssl && h.ssl.certificates) || [];
  if (!certs.length) return "";
  const uploaded = Boolean(h.ssl.uploaded_on);
  return html`<section class="card" aria-labelledby="certs-title">
    <h2 id="certs-title">Certificates</h2>
    <div class="table-scroll"><table>
      <thead><tr><th scope="col">Type</th><th scope="col">Issuer</th><th scope="col">Serial</th>
        <th scope="col">Expires</th><th scope="col">SHA-256 fingerprint</th></tr></thead>
      <tbody>${certs.map((c, i) => html`<tr key=${c.id}>
        <td>${keyFamily(certs, i)}</td><td>${c.issuer}</td><td class="mono">${c.serial_number}</td>
        <td>${dateTime(c.expires_on)}</td><td class="mono fingerprint">${c.fingerprint_sha256}</td>
      </tr>`)}</tbody>
    </table></div>
    ${uploaded ? html`<${PackCertificates} h=${h} credential=${credential} zoneId=${zoneId} reload=${reload} />` : ""}
  </section>`;
}

function EditSettings({ h, credential, zoneId, reload }) {
  const settings = (h.ssl && h.ssl.settings) || {};
  const [minTls, setMinTls] = useState(settings.min_tls_version || "");
  const [origin, setOrigin] = useState(h.custom_origin_server || "");
  const [sni, setSni] = useState(h.custom_origin_sni || "");
  const [metadata, setMetadata] = useState(Object.entries(h.custom_metadata || {})
    .map(([key, value]) => ({ key, value: String(value) })));
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const at = fieldOfError(error);

  const save = async (ev) => {
    ev.preventDefault();
    setError(null);
    setSaved(false);
    // Only what changed: a PATCH of an unchanged field could still be refused (metadata on a
    // wildcard hostname, for one).
    const body = {};
    if (origin.trim() !== (h.custom_origin_server || "")) body.custom_origin_server = origin.trim();
    if (sni.trim() !== (h.custom_origin_sni || "")) body.custom_origin_sni = sni.trim();
    const meta = metadataObject(metadata) || {};
    if (JSON.stringify(meta) !== JSON.stringify(h.custom_metadata || {})) body.custom_metadata = meta;
    if (minTls !== (settings.min_tls_version || "")) {
      const next = { ...settings, min_tls_version: minTls };
      if (!minTls) delete next.min_tls_version;
      body.ssl = { settings: Object.keys(next).length ? next : null };
    }
    if (!Object.keys(body).length) {
      setSaved(true);
      return;
    }
    try {
      await call(credential, "PATCH", `${hostnamesPath(zoneId)}/${h.id}`, body);
      setSaved(true);
      reload();
    } catch (e) {
      setError(e);
    }
  };

  return html`<details class="card">
    <summary><h2>Edit settings</h2></summary>
    <form class="form" onSubmit=${save}>
      ${error && !at ? html`<${ErrorBox} error=${error} />` : ""}
      <${Field} id="edit-min-tls" label="Minimum TLS version" error=${at === "min-tls" ? error.message : null}>
        <select id="edit-min-tls" value=${minTls} onChange=${(e) => setMinTls(e.target.value)}>
          <option value="">Default</option>
          ${["1.0", "1.1", "1.2", "1.3"].map((v) => html`<option value=${v}>TLS ${v}</option>`)}
        </select>
      <//>
      <${Field} id="edit-origin" label="Custom origin server" hint="Empty: the fallback origin."
        error=${at === "origin" ? error.message : null}>
        <input id="edit-origin" value=${origin} aria-describedby="edit-origin-hint"
          onInput=${(e) => setOrigin(e.target.value)} />
      <//>
      <${Field} id="edit-sni" label="Custom origin SNI">
        <input id="edit-sni" value=${sni} onInput=${(e) => setSni(e.target.value)} />
      <//>
      <${MetadataEditor} rows=${metadata} setRows=${setMetadata} error=${at === "metadata" ? error.message : null} />
      <div class="actions"><button type="submit" class="primary">Save settings</button>
        <span role="status">${saved ? "Saved." : ""}</span></div>
    </form>
  </details>`;
}

export function HostnamePage({ credential, zoneId, id, navigate }) {
  const [h, setH] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState("");
  const path = `${hostnamesPath(zoneId)}/${id}`;
  const reload = () => call(credential, "GET", path).then((e) => { setH(e.result); setError(null); },
    (e) => setError(e));

  useEffect(() => { reload(); }, [id]);
  const every = h ? pollInterval(h) : 0;
  useEffect(() => {
    if (!every) return undefined;
    const timer = setInterval(reload, every);
    return () => clearInterval(timer);
  }, [every]);

  const recheck = async () => {
    setNote("");
    try {
      const e = await call(credential, "PATCH", path, { ssl: { method: h.ssl.method, type: h.ssl.type || "dv" } });
      setH(e.result);
      setNote("Validation restarted: the CA checks the records again.");
    } catch (e) {
      setError(e);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${h.hostname}? Its certificates stop being served.`)) return;
    try {
      await call(credential, "DELETE", path);
      navigate("#/");
    } catch (e) {
      setError(e);
    }
  };

  if (!h) return html`<section><p><a href="#/">← Custom Hostnames</a></p>
    ${error ? html`<${ErrorBox} error=${error} />` : html`<p class="loading">Loading…</p>`}</section>`;
  const ssl = h.ssl || {};
  return html`<section aria-labelledby="page-title">
    <p><a href="#/">← Custom Hostnames</a></p>
    <div class="page-head">
      <h1 id="page-title">${h.hostname}</h1>
      <div class="actions">
        ${ssl.method ? html`<button type="button" onClick=${recheck}>Recheck validation</button>` : ""}
        <button type="button" class="danger" onClick=${remove}>Delete</button>
      </div>
    </div>
    <${ErrorBox} error=${error} />
    <p role="status" class="note">${note}</p>
    <div class="card status-card">
      <p><${StatusBadge} status=${h.status} label="Hostname" />
        <${StatusBadge} status=${ssl.status} label="Certificate" /></p>
      <${Stepper} status=${ssl.status} />
      <p class="meta">Validation: <strong>${ssl.method || (ssl.uploaded_on ? "uploaded certificate" : "–")}</strong>${" · "}
        CA: <strong>${ssl.certificate_authority || ssl.issuer || "–"}</strong>${" · "}
        Created ${dateTime(h.created_at)}</p>
    </div>
    <${Problems} h=${h} />
    <${OwnershipRecords} h=${h} />
    <${CertificateValidation} ssl=${ssl} />
    <${Certificates} h=${h} credential=${credential} zoneId=${zoneId} reload=${reload} />
    <${EditSettings} key=${h.id} h=${h} credential=${credential} zoneId=${zoneId} reload=${reload} />
    <${UploadCertificate} h=${h} credential=${credential} zoneId=${zoneId} onDone=${setH} />
  </section>`;
}
