// Queue: depth per queue and lane (live), jobs in flight, delayed and dead-lettered; the
// dead-letter list with each job's reason, and re-drive.
import { useEffect, useState, useCallback } from 'preact/hooks';
import { html } from '../html.js';
import { api, subscribe } from '../api.js';

const LANES = ['interactive', 'batch', 'background'];

export function QueuePage() {
  const [depths, setDepths] = useState(null);
  const [dead, setDead] = useState(null);
  const [note, setNote] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    try {
      const [q, d] = await Promise.all([api('GET', '/v1/queues'), api('GET', '/v1/dlq?limit=100')]);
      setDepths(q);
      setDead(d);
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  }, []);
  useEffect(() => {
    load();
    return subscribe('queues', setDepths);
  }, [load]);
  const redrive = async (queue) => {
    try {
      const r = await api('POST', '/v1/dlq/redrive', queue ? { queue } : {});
      const n = Object.values(r.redriven).reduce((a, b) => a + b, 0);
      setNote(`${n} jobs put back`);
      load();
    } catch (e) {
      setNote(e.message);
    }
  };
  return html`
    <section class="card">
      <h2>Queues</h2>
      ${error && html`<p class="error">${error}</p>`}
      <table class="queues" id="queue-table">
        <thead><tr><th>queue</th>${LANES.map((l) => html`<th>${l}</th>`)}<th>in flight</th><th>delayed</th><th>dead</th><th>done</th></tr></thead>
        <tbody>${(depths || []).map((d) => html`
          <tr key=${d.queue} data-queue=${d.queue}>
            <td>${d.queue}</td>
            ${LANES.map((l) => html`<td class="num" data-lane=${l}>${d.lanes[l] || 0}</td>`)}
            <td class="num">${d.inflight}</td><td class="num">${d.delayed}</td><td class="num">${d.dead}</td>
            <td class="num">${(d.stats && d.stats.done) || 0}</td>
          </tr>`)}</tbody>
      </table>
    </section>
    <section class="card">
      <h2>Dead-letter list</h2>
      <button id="redrive-all" onClick=${() => redrive(null)} disabled=${!dead || dead.length === 0}>Re-drive all</button>
      ${note && html`<span class="status" id="redrive-note">${note}</span>`}
      ${dead && dead.length === 0 && html`<p class="muted" id="dlq-empty">No dead-lettered job.</p>`}
      <ul class="dlq">${(dead || []).map((j) => html`
        <li key=${j.qid}><strong>${j.queue}</strong> <code>${j.qid}</code>
          <div>${j.reason && j.reason.reason ? j.reason.reason : JSON.stringify(j.reason)}</div>
          ${j.reason && j.reason.class && html`<div class="muted">${j.reason.class}, ${j.reason.attempts} attempts</div>`}
        </li>`)}</ul>
    </section>`;
}
