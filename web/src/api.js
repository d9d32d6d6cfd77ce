// The dashboard's only way to the server: the public /client/v4 API with the signed-in
// credential, so that the page can do nothing the credential cannot. Answers are Cloudflare's
// envelope; a failure becomes an ApiError carrying the API's own codes and messages.

const BASE = "/client/v4";

export class ApiError extends Error {
  constructor(status, errors) {
    const list = errors && errors.length ? errors : [{ code: 0, message: `HTTP ${status}` }];
    super(list.map((e) => e.message).join(" "));
    this.status = status;
    this.errors = list;
  }

  // The first error code, for the form to decide which field the message belongs to.
  get code() {
    return this.errors[0].code;
  }
}

function authHeaders(credential) {
  if (credential.token) return { Authorization: `Bearer ${credential.token}` };
  return { "X-Auth-Email": credential.email, "X-Auth-Key": credential.key };
}

// METHOD PATH (below /client/v4) with an optional JSON BODY; resolves to the whole envelope.
export async function call(credential, method, path, body) {
  const headers = authHeaders(credential);
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, [{ code: 0, message: "The server cannot be reached." }]);
  }
  let envelope = null;
  try {
    envelope = await response.json();
  } catch (e) {
    throw new ApiError(response.status, null);
  }
  if (!response.ok || !envelope.success) throw new ApiError(response.status, envelope.errors);
  return envelope;
}

// Query string of PARAMS, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const hostnamesPath = (zoneId) => `/zones/${zoneId}/custom_hostnames`;
