// Sign in with an API token, or with X-Auth-Email and X-Auth-Key. The credential is checked by
// listing the zones it reaches; a refusal shows the API's message.
import { html, useState } from "./vendor/preact-htm.js";
import { call } from "./api.js";
import { ErrorBox, Field } from "./ui.js";

export function SignInPage({ onSignedIn }) {
  const [useKey, setUseKey] = useState(false);
  const [token, setToken] = useState("");
  const [email, setEmail] = useState("");
  const [key, setKey] = useState("");
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (ev) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    const credential = useKey ? { email: email.trim(), key: key.trim() } : { token: token.trim() };
    try {
      const e = await call(credential, "GET", "/zones?per_page=50");
      onSignedIn(credential, e.result, remember);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return html`<main class="signin" id="main">
    <form class="card form" onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to saasedge</h1>
      <p class="hint">Use an API token made with <code>saasedge token create</code>.</p>
      <${ErrorBox} error=${error} />
      ${useKey ? html`
        <${Field} id="email" label="Email">
          <input id="email" type="email" autocomplete="username" required value=${email}
            onInput=${(e) => setEmail(e.target.value)} />
        <//>
        <${Field} id="key" label="API key (X-Auth-Key)">
          <input id="key" type="password" autocomplete="current-password" required value=${key}
            onInput=${(e) => setKey(e.target.value)} />
        <//>` : html`
        <${Field} id="token" label="API token">
          <input id="token" type="password" autocomplete="current-password" required value=${token}
            onInput=${(e) => setToken(e.target.value)} />
        <//>`}
      <div class="field checkbox">
        <input type="checkbox" id="remember" checked=${remember} onChange=${(e) => setRemember(e.target.checked)} />
        <label for="remember">Keep me signed in on this device</label>
      </div>
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>Sign in</button>
        <button type="button" class="link" onClick=${() => { setUseKey(!useKey); setError(null); }}>
          ${useKey ? "Use an API token instead" : "Use email and API key instead"}</button>
      </div>
    </form>
  </main>`;
}
