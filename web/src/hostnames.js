// SSL/TLS > Custom Hostnames: the fallback origin card, the quota, and the list of hostnames
// with search, a status filter and paging. Each page is one API list call (the API answers a
// page in milliseconds at a million hostnames), so nothing here walks the whole zone.
import { html, useEffect, useState } from "./vendor/preact-htm.js";
import { call, hostnamesPath, query } from "./api.js";
import { FallbackOriginCard } from "./fallback.js";
import { ErrorBox, StatusBadge, date, words } from "./ui.js";

const PER_PAGE = 20;
const SSL_FILTERS = ["", "initializing", "pending_validation", "pending_issuance",
  "pending_deployment", "active", "pending_expiration", "expired", "validation_timed_out",
  "issuance_timed_out", "deployment_timed_out"];

function Quota({ credential, zoneId }) {
  const [quota, setQuota] = useState(null);
  useEffect(() => {
    call(credential, "GET", `${hostnamesPath(zoneId)}/quota`)
      .then((e) => setQuota(e.result), () => setQuota(null));
  }, [credential, zoneId]);
  if (!quota) return "";
  return html`<p class="quota">
    <strong>${quota.used}</strong> of <strong>${quota.allocated}</strong> custom hostnames used
    ${quota.exceeded ? html` <span class="badge badge-bad">over the allocation</span>` : ""}</p>`;
}

function CertificateExpiry({ ssl }) {
  const certs = (ssl && ssl.certificates) || [];
  const soonest = certs.map((c) => c.expires_on).filter(Boolean).sort()[0] || (ssl && ssl.expires_on);
  return date(soonest);
}

export function HostnamesPage({ credential, zoneId, navigate }) {
  const [search, setSearch] = useState("");
  const [applied, setApplied] = useState({ hostname: "", status: "" });
  const [page, setPage] = useState(1);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let live = true;
    const params = { page, per_page: PER_PAGE, ssl_status: applied.status,
      "hostname.contain": applied.hostname };
    call(credential, "GET", hostnamesPath(zoneId) + query(params)).then(
      (e) => live && (setData(e), setError(null)),
      (e) => live && setError(e));
    return () => { live = false; };
  }, [credential, zoneId, page, applied]);

  const submit = (ev) => {
    ev.preventDefault();
    setPage(1);
    setApplied({ ...applied, hostname: search.trim().toLowerCase() });
  };
  const info = data && data.result_info;
  const pages = info ? Math.max(1, info.total_pages || 1) : 1;

  return html`<section aria-labelledby="page-title">
    <div class="page-head">
      <h1 id="page-title">Custom Hostnames</h1>
      <a class="button primary" href="#/add">Add Custom Hostname</a>
    </div>
    <${FallbackOriginCard} credential=${credential} zoneId=${zoneId} />
    <div class="card">
      <${Quota} credential=${credential} zoneId=${zoneId} />
      <form class="filters" role="search" onSubmit=${submit}>
        <label for="search">Search by hostname</label>
        <input id="search" type="search" value=${search} placeholder="app.customer.com"
          onInput=${(e) => setSearch(e.target.value)} />
        <button type="submit">Search</button>
        <label for="status-filter">Certificate status</label>
        <select id="status-filter" value=${applied.status}
          onChange=${(e) => { setPage(1); setApplied({ ...applied, status: e.target.value }); }}>
          ${SSL_FILTERS.map((s) => html`<option value=${s}>${s ? words(s) : "any"}</option>`)}
        </select>
      </form>
      <${ErrorBox} error=${error} />
      ${data ? html`<${HostnameTable} hostnames=${data.result} navigate=${navigate} />` :
        html`<p class="loading">Loading…</p>`}
      ${info ? html`<nav class="pager" aria-label="Pages">
        <button type="button" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
        <span>Page ${page} of ${pages} · ${info.total_count} hostname${info.total_count === 1 ? "" : "s"}</span>
        <button type="button" disabled=${page >= pages} onClick=${() => setPage(page + 1)}>Next</button>
      </nav>` : ""}
    </div>
  </section>`;
}

function HostnameTable({ hostnames }) {
  if (!hostnames.length) return html`<p class="empty">No custom hostnames match.</p>`;
  return html`<div class="table-scroll"><table class="hostnames">
    <caption class="visually-hidden">Custom hostnames</caption>
    <thead><tr>
      <th scope="col">Hostname</th><th scope="col">Hostname status</th>
      <th scope="col">Certificate status</th><th scope="col">Validation</th>
      <th scope="col">CA</th><th scope="col">Expires</th>
    </tr></thead>
    <tbody>${hostnames.map((h) => html`<tr key=${h.id}>
      <th scope="row"><a href=${`#/hostnames/${h.id}`}>${h.hostname}</a></th>
      <td data-label="Hostname status"><${StatusBadge} status=${h.status} /></td>
      <td data-label="Certificate status"><${StatusBadge} status=${h.ssl && h.ssl.status} /></td>
      <td data-label="Validation">${(h.ssl && h.ssl.method) || (h.ssl && h.ssl.uploaded_on ? "uploaded" : "–")}</td>
      <td data-label="CA">${(h.ssl && h.ssl.certificate_authority) || "–"}</td>
      <td data-label="Expires"><${CertificateExpiry} ssl=${h.ssl} /></td>
    </tr>`)}</tbody>
  </table></div>`;
}
