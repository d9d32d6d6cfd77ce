// The Fallback Origin card: where traffic for every custom hostname goes unless a hostname
// names its own origin. Enter, Add, watch its status; change or delete it.
import { html, useEffect, useState } from "./vendor/preact-htm.js";
import { ApiError, call, hostnamesPath } from "./api.js";
import { ErrorBox, Field, StatusBadge, describedBy } from "./ui.js";

export function FallbackOriginCard({ credential, zoneId }) {
  const path = `${hostnamesPath(zoneId)}/fallback_origin`;
  const [current, setCurrent] = useState(undefined); // undefined: loading; null: none set
  const [origin, setOrigin] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const load = () => call(credential, "GET", path).then(
    (e) => setCurrent(e.result),
    (e) => (e instanceof ApiError && e.status === 404 ? setCurrent(null) : setError(e)));
  useEffect(() => { load(); }, [credential, zoneId]);
  // A pending origin is checked by the edge within seconds: follow it until it settles.
  useEffect(() => {
    if (!current || current.status !== "pending_deployment") return undefined;
    const timer = setInterval(load, 2000);
    return () => clearInterval(timer);
  }, [current && current.status]);

  const add = async (ev) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const e = await call(credential, "PUT", path, { origin: origin.trim() });
      setCurrent(e.result);
      setOrigin("");
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };
  const remove = async () => {
    if (!confirm(`Delete the fallback origin ${current.origin}?`)) return;
    try {
      await call(credential, "DELETE", path);
      setCurrent(null);
    } catch (e) {
      setError(e);
    }
  };

  return html`<section class="card" aria-labelledby="fallback-title">
    <h2 id="fallback-title">Fallback Origin</h2>
    <p class="hint">Traffic for your custom hostnames goes here unless a hostname has its own
      origin server. It must be a DNS record that points to your origin.</p>
    ${current ? html`<p class="fallback-current">
        <code>${current.origin}</code> <${StatusBadge} status=${current.status} />
        <button type="button" class="danger" onClick=${remove}>Delete</button></p>
        ${(current.errors || []).map((m) => html`<p class="error">${m}</p>`)}` : ""}
    <form class="inline-form" onSubmit=${add}>
      <${Field} id="fallback-origin" label=${current ? "Change the fallback origin" : "Fallback origin"}
        error=${error && error.message}>
        <input id="fallback-origin" required value=${origin} placeholder="proxy-fallback.saasprovider.com"
          aria-describedby=${describedBy("fallback-origin", null, error)}
          aria-invalid=${error ? "true" : undefined}
          onInput=${(e) => setOrigin(e.target.value)} />
      <//>
      <button type="submit" class="primary" disabled=${busy}>${current ? "Update" : "Add"}</button>
    </form>
    ${current === undefined && !error ? html`<p class="loading">Loading…</p>` : ""}
    ${error && !origin ? html`<${ErrorBox} error=${error} />` : ""}
  </section>`;
}
