// The dashboard: sign-in, the zone the credential reaches, and the pages, chosen by the URL's
// fragment (#/, #/add, #/hostnames/ID, #/csrs) so that the server serves one page.
import { html, render, useEffect, useState } from "./vendor/preact-htm.js";
import { call } from "./api.js";
import { AddHostnamePage } from "./add_hostname.js";
import { CsrPage } from "./custom_certs.js";
import { HostnamePage } from "./hostname.js";
import { HostnamesPage } from "./hostnames.js";
import { forgetCredential, loadCredential, saveCredential } from "./session.js";
import { SignInPage } from "./signin.js";
import { ErrorBox } from "./ui.js";

const ZONE_KEY = "saasedge.zone";

function useRoute() {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function navigate(hash) {
  location.hash = hash;
}

function Page({ route, credential, zoneId }) {
  const props = { credential, zoneId, navigate };
  const one = route.match(/^#\/hostnames\/([0-9a-f-]{36})$/);
  if (one) return html`<${HostnamePage} key=${one[1]} id=${one[1]} ...${props} />`;
  if (route === "#/add") return html`<${AddHostnamePage} ...${props} />`;
  if (route === "#/csrs") return html`<${CsrPage} ...${props} />`;
  return html`<${HostnamesPage} ...${props} />`;
}

function App() {
  const [credential, setCredential] = useState(loadCredential);
  const [zones, setZones] = useState(null);
  const [zoneId, setZoneId] = useState(sessionStorage.getItem(ZONE_KEY) || "");
  const [error, setError] = useState(null);
  const route = useRoute();

  // A saved credential is checked again: it may have been revoked since.
  useEffect(() => {
    if (!credential || zones) return;
    call(credential, "GET", "/zones?per_page=50").then((e) => setZones(e.result), (e) => {
      if (e.status === 401 || e.status === 403 || e.status === 400) signOut();
      else setError(e);
    });
  }, [credential]);
  useEffect(() => {
    if (zones && zones.length && !zones.some((z) => z.id === zoneId)) setZoneId(zones[0].id);
  }, [zones]);
  useEffect(() => { if (zoneId) sessionStorage.setItem(ZONE_KEY, zoneId); }, [zoneId]);
  useEffect(() => {
    const page = { "#/add": "Add Custom Hostname", "#/csrs": "CSRs" }[route] || "Custom Hostnames";
    document.title = `${page} · saasedge`;
    const main = document.getElementById("main");
    if (main) main.focus();
  }, [route]);

  function signOut() {
    forgetCredential();
    sessionStorage.removeItem(ZONE_KEY);
    setCredential(null);
    setZones(null);
    navigate("#/");
  }
  const signedIn = (c, z, remember) => {
    saveCredential(c, remember);
    setZones(z);
    setCredential(c);
  };

  if (!credential) return html`<${SignInPage} onSignedIn=${signedIn} />`;
  const zone = zones && zones.find((z) => z.id === zoneId);
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>Skip to content</a>
    <header class="top">
      <span class="brand">saasedge</span>
      <nav aria-label="Sections"><ul>
        <li><a href="#/" aria-current=${route === "#/" ? "page" : undefined}>Custom Hostnames</a></li>
        <li><a href="#/csrs" aria-current=${route === "#/csrs" ? "page" : undefined}>CSRs</a></li>
      </ul></nav>
      ${zones && zones.length > 1 ? html`<label class="zone-pick">Zone
        <select value=${zoneId} onChange=${(e) => { setZoneId(e.target.value); navigate("#/"); }}>
          ${zones.map((z) => html`<option value=${z.id}>${z.name}</option>`)}
        </select></label>` : html`<span class="zone-name">${zone ? zone.name : ""}</span>`}
      <button type="button" class="link" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      <${ErrorBox} error=${error} />
      ${zones && !zones.length ? html`<p>This credential reaches no zone.</p>` : ""}
      ${zone ? html`<${Page} key=${zone.id} route=${route} credential=${credential} zoneId=${zone.id} />` :
        error ? "" : html`<p class="loading">Loading…</p>`}
    </main>`;
}

const root = document.getElementById("app");
root.textContent = ""; // the "Loading" line of index.html
render(html`<${App} />`, root);
