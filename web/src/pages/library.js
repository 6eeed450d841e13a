// Library: search what the fleet resolved and filed (with what verification measured), the
// duplicates it found, and upgrades (not detected yet; the page says so).
import { useEffect, useState, useCallback } from 'preact/hooks';
import { html } from '../html.js';
import { api, debounce, duration } from '../api.js';

// The quality assessor's report: codec, and the spectral (fake-lossless) verdict.
function verifyText(v) {
  if (!v) return '';
  const s = v.spectrum || {};
  const bits = [];
  if (v.codec) bits.push(String(v.codec));
  if (s.verdict) bits.push(String(s.verdict).replace(/_/g, ' '));
  if (s.confidence != null && s.verdict !== 'not_applicable') bits.push(`confidence ${Number(s.confidence).toFixed(2)}`);
  if (s.cutoff_hz != null) bits.push(`cutoff ${Math.round(s.cutoff_hz / 100) / 10} kHz`);
  return bits.join(', ');
}

export function LibraryPage() {
  const [q, setQ] = useState('');
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const search = useCallback(async (text) => {
    try {
      setData(await api('GET', `/v1/library?${new URLSearchParams({ q: text, limit: '100' })}`));
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  }, []);
  const [later] = useState(() => debounce(search, 250));
  useEffect(() => { search(''); }, [search]);
  return html`
    <section class="card">
      <h2>Library</h2>
      <input id="library-search" type="search" placeholder="artist, title, mix, label or ISRC"
        value=${q} onInput=${(e) => { setQ(e.target.value); later(e.target.value); }} />
      ${error && html`<p class="error">${error}</p>`}
    </section>
    ${data && html`
      <section class="card">
        <h2>Filed files (${data.files.length})</h2>
        <table class="library" id="library-files">
          <thead><tr><th>wanted</th><th>track</th><th>file</th><th>verification</th></tr></thead>
          <tbody>${data.files.map((f) => html`
            <tr key=${f.id} data-item=${f.item_id}>
              <td class="title">${f.input_line}</td>
              <td>${f.artist ? `${f.artist} - ${f.title}${f.mix ? ` (${f.mix})` : ''}` : html`<span class="muted">on no metadata platform</span>`}</td>
              <td>${(f.format || '').toUpperCase()} ${f.bitrate_kbps ? f.bitrate_kbps + ' kbps' : ''} ${duration(f.duration_ms)}
                <div class="muted path">${f.path}</div></td>
              <td>${verifyText(f.verify)}</td>
            </tr>`)}</tbody>
        </table>
      </section>
      <section class="card">
        <h2>Resolved tracks (${data.tracks.length})</h2>
        <table class="library" id="library-tracks">
          <thead><tr><th>artist</th><th>title</th><th>mix</th><th>BPM</th><th>key</th><th>file</th><th>verification</th></tr></thead>
          <tbody>${data.tracks.map((t) => html`
            <tr key=${t.id}>
              <td>${t.artist}</td><td class="title">${t.title}</td><td>${t.mix || ''}</td>
              <td>${t.bpm != null ? Math.round(t.bpm * 10) / 10 : ''}</td><td>${t.key || ''}</td>
              <td>${t.file ? `${(t.file.format || '').toUpperCase()} ${t.file.bitrate_kbps ? t.file.bitrate_kbps + ' kbps' : ''} ${duration(t.file.duration_ms)}` : html`<span class="muted">not filed</span>`}
                ${t.file && html`<div class="muted path">${t.file.path}</div>`}</td>
              <td>${t.file ? verifyText(t.file.verify) : ''}</td>
            </tr>`)}</tbody>
        </table>
      </section>
      <section class="card">
        <h2>Duplicates found (${data.duplicates.length})</h2>
        <ul id="library-duplicates">${data.duplicates.map((d) => html`
          <li key=${d.item_id}><span class="title">${d.input_line}</span> — <span class="muted">${d.reason}</span></li>`)}</ul>
      </section>
      <section class="card">
        <h2>Upgrades</h2>
        <p class="muted">${data.upgrades.length ? '' : data.upgrades_note}</p>
      </section>`}`;
}
