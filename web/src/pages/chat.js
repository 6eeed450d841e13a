// Chat with the lead agent: POST /v1/chat, read as a stream (fetch + ReadableStream, since
// EventSource cannot POST), showing plan, tool calls, syncs, progress and the answer as
// they arrive.
import { useState, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { ApiError, csrfHeader } from '../api.js';

/** Splits server-sent event text into {event, data} records; returns the unfinished rest. */
export function parseSse(buffer, onEvent) {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop();
  for (const block of blocks) {
    let event = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) onEvent(event, data.join('\n'));
  }
  return rest;
}

function describe(kind, d) {
  switch (kind) {
    case 'plan':
      return d.fallback ? `plan (${d.planner}): ${d.reason || ''}` : `plan (${d.planner}): ${d.why || ''}`;
    case 'tool':
      return d.error ? `tool ${d.name}: ${d.error.message}` : `tool ${d.name}: ${d.summary || ''}`;
    case 'sync':
      return `sync ${d.sync_id}: ${d.items} items (${d.lane}) from ${d.source}`;
    case 'progress':
      return (d.syncs || []).map((s) => `${s.total} items, ${Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')}`).join(' | ');
    case 'done':
      return d.finished ? 'done' : 'done (syncs still running; follow them on the Syncs page)';
    default:
      return JSON.stringify(d);
  }
}

export function ChatPage() {
  const [message, setMessage] = useState('');
  const [log, setLog] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const conversation = useRef(null);

  const send = async (e) => {
    e.preventDefault();
    const text = message.trim();
    if (!text || busy) return;
    setBusy(true);
    setError(null);
    setMessage('');
    setLog((l) => [...l, { kind: 'you', text }]);
    try {
      const body = { message: text };
      if (conversation.current) body.conversation_id = conversation.current;
      const r = await fetch('/v1/chat', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...csrfHeader() },
        body: JSON.stringify(body),
      });
      if (!r.ok) {
        const d = await r.json().catch(() => ({}));
        throw new ApiError(r.status, d.error || `${r.status}`, d.field);
      }
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf = parseSse(buf + value, (kind, raw) => {
          let d;
          try { d = JSON.parse(raw); } catch { d = { text: raw }; }
          if (d.conversation_id) conversation.current = d.conversation_id;
          setLog((l) => [...l, kind === 'answer' ? { kind, text: d.text } : { kind, text: describe(kind, d) }]);
        });
      }
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <section class="card">
      <h2>Chat with the lead</h2>
      <p class="muted">Ask for tracks ("Bicep - Glue", one per line) or paste a playlist address; the
        lead creates ordinary syncs and answers. It never approves, downloads or changes the library.</p>
      <ol class="chat" id="chat-log">
        ${log.map((m, i) => html`<li key=${i} class=${'ev ev-' + m.kind} data-kind=${m.kind}>
          <span class="kind">${m.kind}</span> <span class="text">${m.text}</span></li>`)}
      </ol>
      <form onSubmit=${send} id="chat-form">
        <textarea id="chat-input" rows="3" value=${message} onInput=${(e) => setMessage(e.target.value)}
          placeholder="Artist - Title, or a playlist address"></textarea>
        <button type="submit" id="chat-send" disabled=${busy}>${busy ? 'Working…' : 'Send'}</button>
        ${conversation.current && html`<button type="button" class="link" onClick=${() => { conversation.current = null; setLog([]); }}>New conversation</button>`}
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </section>`;
}
