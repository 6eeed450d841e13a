// Syncs: create one from a pasted or uploaded playlist or an address, follow every sync's
// progress per state live, and retry failed items (their reason is shown as written).
import { useEffect, useState, useCallback } from 'preact/hooks';
import { html } from '../html.js';
import { api, subscribe, debounce, STATES, label } from '../api.js';

function CreateSync({ onCreated }) {
  const [mode, setMode] = useState('paste');
  const [text, setText] = useState('');
  const [file, setFile] = useState(null);
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [lane, setLane] = useState('interactive');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      let created;
      if (mode === 'file') {
        if (!file) throw new Error('choose a playlist file first');
        const q = new URLSearchParams({ source: file.name, lane });
        if (name.trim()) q.set('name', name.trim());
        created = await api('POST', `/v1/syncs?${q}`, file);
      } else if (mode === 'url') {
        created = await api('POST', '/v1/syncs', { url: url.trim(), lane, ...(name.trim() ? { name: name.trim() } : {}) });
      } else {
        created = await api('POST', '/v1/syncs', {
          playlist: text, source: 'pasted.txt', lane, ...(name.trim() ? { name: name.trim() } : {}),
        });
      }
      setResult(created);
      setText('');
      onCreated(created);
    } catch (err) {
      setError(err.field ? `${err.field}: ${err.message}` : err.message);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <section class="card">
      <h2>New sync</h2>
      <form onSubmit=${submit} id="create-sync">
        <div class="modes">
          ${[['paste', 'Paste'], ['file', 'File'], ['url', 'Address']].map(([m, t]) => html`
            <label><input type="radio" name="mode" value=${m} checked=${mode === m}
              onChange=${() => setMode(m)} id=${'mode-' + m} /> ${t}</label>`)}
        </div>
        ${mode === 'paste' && html`
          <textarea id="playlist-text" rows="6" placeholder="Artist - Title, one per line (or M3U / CSV)"
            value=${text} onInput=${(e) => setText(e.target.value)}></textarea>`}
        ${mode === 'file' && html`
          <input id="playlist-file" type="file" accept=".m3u,.m3u8,.csv,.txt"
            onChange=${(e) => setFile(e.target.files[0] || null)} />`}
        ${mode === 'url' && html`
          <input id="playlist-url" type="url" placeholder="https://open.spotify.com/playlist/…"
            value=${url} onInput=${(e) => setUrl(e.target.value)} />`}
        <div class="row">
          <label>Name <input id="sync-name" value=${name} onInput=${(e) => setName(e.target.value)} /></label>
          <label>Lane <select id="sync-lane" value=${lane} onChange=${(e) => setLane(e.target.value)}>
            <option value="interactive">interactive</option>
            <option value="batch">batch</option>
            <option value="background">background</option>
          </select></label>
          <button type="submit" id="create-submit" disabled=${busy}>${busy ? 'Creating…' : 'Create sync'}</button>
        </div>
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${result && html`
        <p class="ok" id="create-result">${`Sync created: ${result.items} items (${result.format}), ${result.skipped.length} lines skipped.`}</p>
        ${result.skipped.length > 0 && html`<ul class="skipped">
          ${result.skipped.map((s) => html`<li>line ${s.line_no}: ${s.input} — ${s.reason}</li>`)}
        </ul>`}`}
    </section>`;
}

function Counts({ counts }) {
  return html`<span class="counts">
    ${STATES.filter((s) => counts[s] > 0).map((s) => html`
      <span class=${'chip state-' + s} data-state=${s}>${label(s)} ${counts[s]}</span>`)}
  </span>`;
}

function SyncItems({ syncId, version }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState({});
  const load = useCallback(async () => {
    try {
      setItems(await api('GET', `/v1/syncs/${syncId}/items?limit=500`));
    } catch (e) {
      setError(e.message);
    }
  }, [syncId]);
  useEffect(() => { load(); }, [load, version]);
  const retry = async (id) => {
    try {
      const r = await api('POST', `/v1/items/${id}/retry`);
      setNote({ ...note, [id]: `retrying (${label(r.state)})` });
      load();
    } catch (e) {
      setNote({ ...note, [id]: e.message });
    }
  };
  if (error) return html`<p class="error">${error}</p>`;
  if (!items) return html`<p>Loading items…</p>`;
  return html`
    <table class="items">
      <thead><tr><th>line</th><th>wanted</th><th>state</th><th>why / result</th><th></th></tr></thead>
      <tbody>
        ${items.map((it) => html`
          <tr key=${it.id} data-item=${it.id} class=${'state-' + it.state}>
            <td>${it.line_no}</td>
            <td class="title">${it.input_line}</td>
            <td><span class=${'chip state-' + it.state}>${label(it.state)}</span></td>
            <td class="reason">${it.track ? `${it.track.artist} - ${it.track.title}${it.track.mix ? ` (${it.track.mix})` : ''}` : ''}
              ${it.reason ? html`<div>${it.reason}</div>` : ''}
              ${note[it.id] ? html`<div class="note">${note[it.id]}</div>` : ''}</td>
            <td>${it.state === 'failed' && html`<button class="retry" onClick=${() => retry(it.id)}>Retry</button>`}</td>
          </tr>`)}
      </tbody>
    </table>`;
}

export function SyncsPage() {
  const [syncs, setSyncs] = useState(null);
  const [open, setOpen] = useState(null);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    try {
      setSyncs(await api('GET', '/v1/syncs?limit=30'));
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  }, []);
  useEffect(() => {
    load();
    const refresh = debounce(() => { load(); setVersion((v) => v + 1); }, 300);
    return subscribe('item', refresh);
  }, [load]);
  return html`
    <${CreateSync} onCreated=${(c) => { setOpen(c.sync_id); load(); }} />
    <section class="card">
      <h2>Syncs</h2>
      ${error && html`<p class="error">${error}</p>`}
      ${syncs && syncs.length === 0 && html`<p>No sync yet.</p>`}
      <ul class="syncs">
        ${(syncs || []).map((s) => {
          const settled = (s.counts.filed || 0) + (s.counts.failed || 0) + (s.counts.duplicate || 0)
            + (s.counts.resolved || 0) + (s.counts.awaiting_approval || 0);
          return html`
          <li key=${s.sync_id} class="sync" data-sync=${s.sync_id}>
            <button class="link sync-name" onClick=${() => setOpen(open === s.sync_id ? null : s.sync_id)}>
              ${open === s.sync_id ? '▾' : '▸'} ${s.name}</button>
            <span class="muted"> ${s.total} items · ${s.lane} · ${new Date(s.created_at).toLocaleString()}</span>
            <div><progress max=${s.total || 1} value=${settled}></progress>
              ${s.finished ? html`<span class="chip done">settled</span>` : ''}</div>
            <${Counts} counts=${s.counts} />
            ${open === s.sync_id && html`<${SyncItems} syncId=${s.sync_id} version=${version} />`}
          </li>`;
        })}
      </ul>
    </section>`;
}
