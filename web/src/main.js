// The cratedigger page: tabs for syncs, review, library, queue and chat, a login form when
// the scheduler is reached beyond loopback, and live updates from /v1/events.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { api, setCsrf, setUnauthorizedHandler, connectEvents, disconnectEvents, subscribe } from './api.js';
import { SyncsPage } from './pages/syncs.js';
import { ReviewPage } from './pages/review.js';
import { LibraryPage } from './pages/library.js';
import { QueuePage } from './pages/queue.js';
import { ChatPage } from './pages/chat.js';

const PAGES = [
  ['syncs', 'Syncs', SyncsPage],
  ['review', 'Review', ReviewPage],
  ['library', 'Library', LibraryPage],
  ['queue', 'Queue', QueuePage],
  ['chat', 'Chat', ChatPage],
];

function currentPage() {
  const name = location.hash.replace(/^#\/?/, '');
  return PAGES.some(([n]) => n === name) ? name : 'syncs';
}

function Login({ onDone }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const s = await api('POST', '/v1/session', { token });
      setToken('');
      onDone(s);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`
    <main class="login">
      <h1>cratedigger</h1>
      <p>This scheduler is reachable beyond this machine, so it asks for its API token
        (<code>CRATEDIGGER__API__TOKEN</code>). The page keeps a session cookie instead of the token.</p>
      <form onSubmit=${submit}>
        <label>API token <input id="login-token" type="password" autocomplete="current-password"
          value=${token} onInput=${(e) => setToken(e.target.value)} /></label>
        <button type="submit" id="login-submit">Log in</button>
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </main>`;
}

function App() {
  const [session, setSession] = useState(null);
  const [page, setPage] = useState(currentPage());
  const [live, setLive] = useState(false);
  const [bootError, setBootError] = useState(null);

  const load = async () => {
    try {
      const s = await api('GET', '/v1/session');
      setCsrf(s.csrf);
      setSession(s);
    } catch (e) {
      setBootError(e.message);
    }
  };
  useEffect(() => {
    load();
    setUnauthorizedHandler(() => {
      disconnectEvents();
      setCsrf(null);
      setSession({ auth_required: true, logged_in: false });
    });
    const onHash = () => setPage(currentPage());
    window.addEventListener('hashchange', onHash);
    const off = subscribe('status', setLive);
    return () => {
      window.removeEventListener('hashchange', onHash);
      off();
    };
  }, []);
  useEffect(() => {
    if (session && session.logged_in) connectEvents();
  }, [session]);

  if (bootError) return html`<main><p class="error">The scheduler did not answer: ${bootError}</p></main>`;
  if (!session) return html`<main><p>Loading…</p></main>`;
  if (!session.logged_in) {
    return html`<${Login} onDone=${(s) => { setCsrf(s.csrf); setSession(s); }} />`;
  }
  const logout = async () => {
    try {
      await api('DELETE', '/v1/session');
    } finally {
      disconnectEvents();
      setCsrf(null);
      setSession({ auth_required: true, logged_in: false });
    }
  };
  const Page = PAGES.find(([n]) => n === page)[2];
  return html`
    <header>
      <span class="brand">cratedigger</span>
      <nav>
        ${PAGES.map(([name, title]) => html`
          <a href=${'#/' + name} id=${'tab-' + name} class=${name === page ? 'active' : ''}
             aria-current=${name === page ? 'page' : undefined}>${title}</a>`)}
      </nav>
      <span class=${'live ' + (live ? 'on' : 'off')} id="live-status"
        title="live updates from /v1/events">${live ? 'live' : 'offline'}</span>
      ${session.via === 'session' && html`<button class="link" id="logout" onClick=${logout}>Log out</button>`}
    </header>
    <main id=${'page-' + page}><${Page} /></main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading…" placeholder of index.html
render(html`<${App} />`, root);
