// Talking to the scheduler: JSON requests with the session's CSRF token on every
// state-changing request, the live event stream, and small formatting helpers.
// Nothing here builds HTML from strings: every value is rendered by Preact as text.

let csrf = null;
let onUnauthorized = () => {};

/** Remembers the session's CSRF token (null when the scheduler needs no login). */
export function setCsrf(token) {
  csrf = token || null;
}

/** Called when a request comes back 401 (the session expired): the page shows the login. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** An answer that was not 2xx, with the server's sentence and the field it names. */
export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

/**
 * One request. `body`: undefined (none), a string or Blob (sent raw), or an object (JSON).
 * Returns the parsed JSON (or text); throws ApiError with the server's sentence.
 */
export async function api(method, path, body) {
  const headers = {};
  if (csrf && method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
  let payload;
  if (body instanceof Blob) {
    headers['Content-Type'] = 'application/octet-stream';
    payload = body;
  } else if (typeof body === 'string') {
    headers['Content-Type'] = 'text/plain; charset=utf-8';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const type = r.headers.get('content-type') || '';
  const data = type.includes('json') ? await r.json() : await r.text();
  if (!r.ok) {
    if (r.status === 401 && !path.startsWith('/v1/session')) onUnauthorized();
    const msg = (data && data.error) || `${r.status} ${r.statusText}`;
    throw new ApiError(r.status, msg, data && data.field);
  }
  return data;
}

// ---------------------------------------------------------------- live events

const listeners = { item: new Set(), queues: new Set(), status: new Set() };
let source = null;

/** Subscribes to `item` (state changes), `queues` (depths) or `status` (connected?) events. */
export function subscribe(kind, fn) {
  listeners[kind].add(fn);
  return () => listeners[kind].delete(fn);
}

function emit(kind, data) {
  for (const fn of listeners[kind]) {
    try {
      fn(data);
    } catch (e) {
      console.error(e);
    }
  }
}

/** Opens the event stream (once); EventSource reconnects by itself and resumes. */
export function connectEvents() {
  if (source) return;
  source = new EventSource('/v1/events');
  source.addEventListener('open', () => emit('status', true));
  source.addEventListener('error', () => emit('status', false));
  source.addEventListener('hello', () => emit('status', true));
  source.addEventListener('item', (e) => emit('item', JSON.parse(e.data)));
  source.addEventListener('queues', (e) => emit('queues', JSON.parse(e.data)));
}

/** Closes the event stream (logout). */
export function disconnectEvents() {
  if (source) source.close();
  source = null;
}

/** Calls `fn` at most once per `ms`, after the last call (many events, one refresh). */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

// ---------------------------------------------------------------- formatting

/** 217000 → "3:37". */
export function duration(ms) {
  if (ms == null) return '';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** States in the order an item moves through them. */
export const STATES = [
  'pending', 'researching', 'resolved', 'duplicate', 'discovering', 'ranked',
  'awaiting_approval', 'downloading', 'verifying', 'filed', 'failed',
];

/** "awaiting_approval" → "awaiting approval". */
export function label(state) {
  return String(state || '').replace(/_/g, ' ');
}

/** An address from a source (untrusted) if it is http(s), else null: never a `javascript:` link. */
export function safeUrl(u) {
  return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null;
}

/** The CSRF header for a request made without `api()` (the chat stream). */
export function csrfHeader() {
  return csrf ? { 'X-CSRF-Token': csrf } : {};
}
