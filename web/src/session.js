// Where the signed-in credential lives. By default in sessionStorage: it ends with the tab.
// Only when the user ticks "Keep me signed in on this device" does it go to localStorage.
// Never in a URL, a cookie (nothing cross-site can send it) or the page's markup.

const KEY = "saasedge.credential";

export function loadCredential() {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const saved = JSON.parse(store.getItem(KEY) || "null");
      if (saved && (saved.token || (saved.email && saved.key))) return saved;
    } catch (e) {
      store.removeItem(KEY);
    }
  }
  return null;
}

export function saveCredential(credential, remember) {
  forgetCredential();
  (remember ? localStorage : sessionStorage).setItem(KEY, JSON.stringify(credential));
}

export function forgetCredential() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}
