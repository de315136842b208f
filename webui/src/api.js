// The console API client: JSON in and out, the CSRF token on every write,
// and errors as ApiError with the server's code, message and field reasons.

let csrfToken = '';
let onSessionEnd = () => {};
let onPasswordChange = () => {};

export function setCsrfToken(token) {
  csrfToken = token || '';
}

// handlers: { sessionEnded(), passwordChangeRequired() } — called on 401 and
// on the first-password gate so the app can route to the right page.
export function setAuthHandlers(handlers) {
  onSessionEnd = handlers.sessionEnded;
  onPasswordChange = handlers.passwordChangeRequired;
}

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'error';
    this.fields = e.fields || {};
  }
}

export async function api(method, path, body, { signal, raw } = {}) {
  const headers = { Accept: 'application/json' };
  let payload = body;
  if (body !== undefined && !(body instanceof Blob) && !(body instanceof ArrayBuffer)) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/octet-stream';
  }
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let res;
  // A read that fails on the network (a dropped Wi-Fi, a browser that saw
  // its network change) is tried once more; a write is not, since it may
  // have arrived.
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch('/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin', signal });
      break;
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      if (method === 'GET' && attempt === 0) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      throw new ApiError(0, { error: { code: 'network', message: 'The console server cannot be reached.' } });
    }
  }
  if (res.status === 204) return null;
  const isJSON = (res.headers.get('Content-Type') || '').includes('json');
  const data = raw && res.ok ? res : isJSON ? await res.json() : await res.text();
  if (!res.ok) {
    const err = new ApiError(res.status, isJSON ? data : null);
    if (res.status === 401 && !path.startsWith('/auth/login')) onSessionEnd();
    if (err.code === 'password_change_required') onPasswordChange();
    throw err;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

// enc encodes one path segment.
export const enc = encodeURIComponent;
