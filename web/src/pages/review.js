// Review: items waiting for a person, each with its top 5 copies (score breakdown, format,
// bitrate, duration, peer, verification verdict when one was tried, preview when the source
// has one). Keyboard: j/k or arrows move, 1-5 pick, Enter or a approves, r rejects.
import { useEffect, useState, useCallback, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { api, subscribe, debounce, duration, label, safeUrl } from '../api.js';

function fmtProps(c) {
  const out = [];
  if (c.format) out.push(c.format.toUpperCase());
  if (c.bitrate_kbps) out.push(`${c.bitrate_kbps} kbps`);
  if (c.sample_rate_hz) out.push(`${(c.sample_rate_hz / 1000).toFixed(1)} kHz`);
  if (c.bit_depth) out.push(`${c.bit_depth} bit`);
  if (c.duration_ms) out.push(duration(c.duration_ms));
  if (c.size_bytes) out.push(`${(c.size_bytes / 1e6).toFixed(1)} MB`);
  if (c.price) out.push(c.price);
  return out.join(' · ');
}

function peer(c) {
  if (!c.peer) return '';
  const p = c.peer;
  const bits = [p.username];
  if (p.has_free_slot != null) bits.push(p.has_free_slot ? 'free slot' : 'no free slot');
  if (p.queue_length != null) bits.push(`queue ${p.queue_length}`);
  return bits.join(', ');
}

function verdict(row) {
  if (row.state === 'rejected_file') return html`<span class="bad">refused after download: ${row.failure}</span>`;
  if (row.state === 'failed') return html`<span class="bad">download failed: ${row.failure}</span>`;
  if (row.state === 'filed') return html`<span class="ok">verified and filed</span>`;
  if (row.state !== 'offered') return html`<span>${label(row.state)}</span>`;
  return html`<span class="muted">not verified yet (checked after download)</span>`;
}

function Candidate({ row, picked, onPick }) {
  const c = row.candidate;
  return html`
    <li class=${'cand' + (picked ? ' picked' : '')} data-rank=${row.rank} onClick=${onPick}>
      <div class="cand-head">
        <span class="rank">${row.rank}</span>
        <span class="score" title="total score">${row.score.toFixed(1)}</span>
        <span class="src">${c.source}</span>
        <span class="cand-title">${c.artist ? `${c.artist} - ` : ''}${c.title}</span>
      </div>
      <div class="props">${fmtProps(c)}${c.peer ? html` · peer <span class="peer">${peer(c)}</span>` : ''}</div>
      <div class="verdict">${verdict(row)}</div>
      <ul class="factors">
        ${(row.factors || []).map((f) => html`
          <li class=${f.points >= 0 ? 'plus' : 'minus'}>${f.factor} ${f.points >= 0 ? '+' : ''}${f.points.toFixed(0)}
            <span class="muted"> (${f.detail})</span></li>`)}
      </ul>
      ${safeUrl(c.preview_url) && html`<audio controls preload="none" src=${safeUrl(c.preview_url)}></audio>`}
    </li>`;
}

function ItemCard({ entry, selected, picked, onPick, onApprove, onReject, status, cardRef }) {
  const it = entry.item;
  return html`
    <article class=${'review-item' + (selected ? ' selected' : '')} data-item=${it.id} ref=${selected ? cardRef : undefined}>
      <h3 class="title">${it.input_line}</h3>
      <div class="muted">line ${it.line_no}${it.track ? ` · resolved as ${it.track.artist} - ${it.track.title}${it.track.mix ? ` (${it.track.mix})` : ''}` : ' · on no metadata platform: searched as written'}</div>
      <ol class="cands">
        ${entry.top.map((row) => html`<${Candidate} key=${row.id} row=${row} picked=${picked === row.rank}
          onPick=${() => onPick(row.rank)} />`)}
      </ol>
      ${entry.more_ranked > 0 && html`<p class="muted">${entry.more_ranked} more ranked copies (cratedigger candidates ${it.id}).</p>`}
      ${entry.options.length > 0 && html`<p class="muted">Buy / listen: ${entry.options.slice(0, 3).map((o, i) => html`${i ? ', ' : ''}<a href=${safeUrl(o.candidate.url)} rel="noopener noreferrer" target="_blank">${o.candidate.source}${o.candidate.price ? ` ${o.candidate.price}` : ''}</a>`)}</p>`}
      ${entry.filtered_out > 0 && html`<p class="muted">${entry.filtered_out} copies filtered out by a required condition.</p>`}
      <div class="actions">
        <button class="approve" onClick=${onApprove}>Approve #${picked}</button>
        <button class="reject" onClick=${onReject}>Reject all</button>
        ${status && html`<span class="status">${status}</span>`}
      </div>
    </article>`;
}

export function ReviewPage() {
  const [entries, setEntries] = useState(null);
  const [sel, setSel] = useState(null);
  const [picked, setPicked] = useState({});
  const [status, setStatus] = useState({});
  const [decided, setDecided] = useState([]);
  const [error, setError] = useState(null);
  const cardRef = useRef(null);
  const state = useRef({});

  const load = useCallback(async () => {
    try {
      const r = await api('GET', '/v1/review?limit=100');
      setEntries(r.items);
      setError(null);
      setSel((cur) => (r.items.some((e) => e.item.id === cur) ? cur : (r.items[0] ? r.items[0].item.id : null)));
    } catch (e) {
      setError(e.message);
    }
  }, []);

  useEffect(() => {
    load();
    const refresh = debounce(load, 400);
    return subscribe('item', (ev) => {
      setDecided((d) => d.map((x) => (x.id === ev.item_id ? { ...x, state: ev.to, reason: ev.reason } : x)));
      if (ev.to === 'awaiting_approval' || ev.from === 'awaiting_approval') refresh();
    });
  }, [load]);

  const list = entries || [];
  const idx = list.findIndex((e) => e.item.id === sel);
  const current = idx >= 0 ? list[idx] : null;
  const pickOf = (id) => picked[id] || 1;

  const decide = async (entry, how) => {
    const id = entry.item.id;
    const rank = pickOf(id);
    try {
      if (how === 'approve') {
        await api('POST', `/v1/items/${id}/approve`, { rank, by: 'web review' });
      } else {
        await api('POST', `/v1/items/${id}/reject`, { by: 'web review', reason: 'rejected on the review page' });
      }
      const what = how === 'approve' ? `approved #${rank}` : 'rejected';
      setStatus((s) => ({ ...s, [id]: what }));
      setDecided((d) => [{ id, line: entry.item.input_line, what, state: 'awaiting_approval' }, ...d].slice(0, 50));
      const next = list.slice(idx + 1).find((e) => !status[e.item.id] && e.item.id !== id);
      if (next) setSel(next.item.id);
    } catch (e) {
      setStatus((s) => ({ ...s, [id]: e.message }));
    }
  };

  // The keyboard handler reads the latest values through a ref (no re-binding per render).
  state.current = { list, idx, current, decide, pickOf };
  useEffect(() => {
    const onKey = (e) => {
      const t = e.target;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const { list, idx, current, decide } = state.current;
      if (!current) return;
      const k = e.key;
      if (k === 'j' || k === 'ArrowDown') {
        if (idx + 1 < list.length) setSel(list[idx + 1].item.id);
      } else if (k === 'k' || k === 'ArrowUp') {
        if (idx > 0) setSel(list[idx - 1].item.id);
      } else if (/^[1-5]$/.test(k)) {
        const n = Number(k);
        if (n <= current.top.length) setPicked((p) => ({ ...p, [current.item.id]: n }));
      } else if (k === 'Enter' || k === 'a') {
        decide(current, 'approve');
      } else if (k === 'r') {
        decide(current, 'reject');
      } else {
        return;
      }
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (cardRef.current && cardRef.current.scrollIntoView) cardRef.current.scrollIntoView({ block: 'nearest' });
  }, [sel]);

  return html`
    <section class="card keys" id="review-keys">
      <strong>Keys:</strong> <kbd>j</kbd>/<kbd>↓</kbd> next item · <kbd>k</kbd>/<kbd>↑</kbd> previous ·
      <kbd>1</kbd>–<kbd>5</kbd> pick a copy · <kbd>Enter</kbd> or <kbd>a</kbd> approve the picked copy ·
      <kbd>r</kbd> reject every copy. Clicking a copy picks it too.
    </section>
    ${error && html`<p class="error">${error}</p>`}
    ${entries && entries.length === 0 && html`<section class="card"><p id="review-empty">Nothing waits for approval.</p></section>`}
    <div class="review-list">
      ${list.map((e) => html`<${ItemCard} key=${e.item.id} entry=${e} selected=${e.item.id === sel}
        picked=${pickOf(e.item.id)} status=${status[e.item.id]} cardRef=${cardRef}
        onPick=${(n) => { setSel(e.item.id); setPicked((p) => ({ ...p, [e.item.id]: n })); }}
        onApprove=${() => decide(e, 'approve')} onReject=${() => decide(e, 'reject')} />`)}
    </div>
    ${decided.length > 0 && html`
      <section class="card">
        <h2>Decided here</h2>
        <ul class="decided" id="decided">
          ${decided.map((d) => html`<li key=${d.id} data-item=${d.id} data-state=${d.state}>
            <span class="title">${d.line}</span> — ${d.what} → <span class=${'chip state-' + d.state}>${label(d.state)}</span>
            ${d.reason ? html` <span class="muted">${d.reason}</span>` : ''}</li>`)}
        </ul>
      </section>`}`;
}
