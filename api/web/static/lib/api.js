// The JSON API client. The access token lives only in this module's memory;
// the refresh token is an HttpOnly cookie the page cannot read, sent only to
// /v1/auth/web. Every call names the full API path ("/v1/me").
//
//   api.get(path)            api.post(path, body)   api.put(path, body)
//   api.patch(path, body)    api.del(path, body)
//
// A body that is a Blob/File is sent as is (with its own type); anything
// else is sent as JSON. A 401 refreshes once through the cookie and retries;
// a failed refresh signs the page out. Failures throw ApiError.

const WEB = { 'X-Requested-With': 'hometime-web' };

let accessToken = null;
let refreshing = null;
// Every call of the session runs under this controller; signing out
// aborts what is still in flight, so no request of the old session is
// answered 401 after the server has ended it.
let inflight = new AbortController();
const signedOutListeners = new Set();

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || 'network';
    this.fields = fields || {};
  }
}

async function toError(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const e = body && body.error;
  const err = new ApiError(res.status, e && e.code, e && e.message, e && e.fields);
  const ra = res.headers.get('Retry-After');
  if (ra) err.retryAfter = Number(ra);
  return err;
}

async function send(method, path, body, headers, signal) {
  const h = { Accept: 'application/json', ...headers };
  let payload;
  if (body instanceof Blob) {
    payload = body;
    if (!h['Content-Type']) h['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined && body !== null) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  try {
    return await fetch(path, { method, headers: h, body: payload, credentials: 'same-origin', cache: 'no-store', signal });
  } catch (e) {
    throw new ApiError(0, e.name === 'AbortError' ? 'aborted' : 'network', e.message);
  }
}

async function request(method, path, body, opts = {}) {
  // Outside /v1/auth every route the app calls needs a session. Signed out
  // (or signing out, while a screen's chained loads still run), the answer
  // could only be 401, which the browser would log as a failed load: it is
  // not asked.
  if (accessToken === null && !path.startsWith('/v1/auth/')) {
    throw new ApiError(401, 'unauthenticated', 'sign in first');
  }
  const headers = { ...(opts.headers || {}) };
  if (accessToken) headers.Authorization = 'Bearer ' + accessToken;
  const { signal } = inflight;
  let res = await send(method, path, body, headers, signal);
  if (res.status === 401 && accessToken !== null && opts.retry !== false) {
    if (await refresh()) {
      headers.Authorization = 'Bearer ' + accessToken;
      res = await send(method, path, body, headers, signal);
    }
  }
  if (res.status === 401 && opts.retry !== false) signedOut();
  if (!res.ok) throw await toError(res);
  if (opts.raw) return res;
  if (res.status === 204 || res.status === 205) return null;
  const ct = res.headers.get('Content-Type') || '';
  return ct.includes('json') ? res.json() : res.text();
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body, opts) => request('POST', path, body, opts),
  put: (path, body, opts) => request('PUT', path, body, opts),
  patch: (path, body, opts) => request('PATCH', path, body, opts),
  del: (path, body, opts) => request('DELETE', path, body, opts),
};

function signedOut() {
  const was = accessToken !== null;
  accessToken = null;
  if (was) signedOutListeners.forEach((f) => f());
}

// onSignedOut calls f when the session ends underneath the page.
export function onSignedOut(f) {
  signedOutListeners.add(f);
  return () => signedOutListeners.delete(f);
}

export const signedIn = () => accessToken !== null;

// signIn starts a web session (staff only). Throws ApiError.
export async function signIn(email, password) {
  const res = await send('POST', '/v1/auth/web/login', { email, password }, WEB);
  if (!res.ok) throw await toError(res);
  accessToken = (await res.json()).access_token;
}

// refresh swaps the cookie for a new access token, one call at a time;
// it resolves to whether the page is signed in.
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const res = await send('POST', '/v1/auth/web/refresh', undefined, WEB);
        if (!res.ok) { accessToken = null; return false; }
        accessToken = (await res.json()).access_token;
        return true;
      } catch {
        return false;
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

// signOut ends the session on the server and forgets the token.
// Calls still in flight are aborted first (they reject with code
// "aborted").
export async function signOut() {
  accessToken = null;
  inflight.abort();
  inflight = new AbortController();
  try { await send('POST', '/v1/auth/web/logout', undefined, WEB); } finally { accessToken = null; }
}

// download fetches path as the signed-in user (Accept: accept) and hands
// the answer to the browser as a file called name.
export async function download(path, accept, name) {
  const res = await request('GET', path, undefined, { raw: true, headers: { Accept: accept } });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
