// The invite funnel: per class, how many families were invited, reached
// and joined; then every family with the state of their invite, filtered
// by class; and a resend to everyone who has not joined.
import { html, useState, useMemo, useRef } from '../lib/ui.js';
import { t, fmt } from '../lib/i18n.js';
import { api, download } from '../lib/api.js';
import { useLoad, Load, ErrorBanner, TableWrap, Field } from '../lib/components.js';
import { InviteProgress } from '../lib/broadcast.js';

const pct = (n, d) => (d ? fmt.percent(n / d) : '–');

function FunnelTable({ funnel }) {
  const rows = [...funnel.classes];
  return html`<${TableWrap} label=${t('funnel.byClass')}>
    <table>
      <caption>${t('funnel.byClass')}</caption>
      <thead><tr>
        <th scope="col">${t('funnel.class')}</th>
        <th scope="col" class="num">${t('funnel.imported')}</th>
        <th scope="col" class="num">${t('funnel.invited')}</th>
        <th scope="col" class="num">${t('funnel.delivered')}</th>
        <th scope="col" class="num">${t('funnel.sent')}</th>
        <th scope="col" class="num">${t('funnel.failed')}</th>
        <th scope="col" class="num">${t('funnel.joined')}</th>
        <th scope="col" class="num">${t('funnel.active')}</th>
      </tr></thead>
      <tbody>
        ${rows.map((c) => html`<tr>
          <th scope="row">${c.name}</th>
          <td class="num">${fmt.number(c.imported)}</td>
          <td class="num">${fmt.number(c.invited)}</td>
          <td class="num">${fmt.number(c.delivered)}</td>
          <td class="num">${fmt.number(c.sent)}</td>
          <td class="num">${fmt.number(c.failed)}</td>
          <td class="num">${fmt.number(c.joined)} (${pct(c.joined, c.imported)})</td>
          <td class="num">${fmt.number(c.active_30d)}</td>
        </tr>`)}
      </tbody>
      ${funnel.school && html`<tfoot><tr>
        <th scope="row">${t('funnel.wholeSchool')}</th>
        <td class="num">${fmt.number(funnel.school.imported)}</td>
        <td class="num">${fmt.number(funnel.school.invited)}</td>
        <td class="num">${fmt.number(funnel.school.delivered)}</td>
        <td class="num">${fmt.number(funnel.school.sent)}</td>
        <td class="num">${fmt.number(funnel.school.failed)}</td>
        <td class="num">${fmt.number(funnel.school.joined)} (${pct(funnel.school.joined, funnel.school.imported)})</td>
        <td class="num">${fmt.number(funnel.school.active_30d)}</td>
      </tr></tfoot>`}
    </table>
  </${TableWrap}>`;
}

const deliveryTag = { delivered: 'ok', sent: '', pending: '', failed: 'bad', not_invited: 'warn' };

function Families({ families, classOf, classes }) {
  const [cls, setCls] = useState('');
  const [state, setState] = useState('');
  const shown = families.filter((f) => (!cls || f.children.some((k) => (classOf[k.child_id] || []).includes(cls)))
    && (!state || (state === 'joined' ? f.state === 'active' : f.state !== 'active' && f.delivery === state)));
  return html`<section aria-labelledby="families-h">
    <h2 id="families-h">${t('funnel.families')}</h2>
    <div class="filters">
      <${Field} as="select" label=${t('funnel.filterClass')} value=${cls} onChange=${(e) => setCls(e.target.value)}>
        <option value="">${t('funnel.allClasses')}</option>
        ${classes.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
      </${Field}>
      <${Field} as="select" label=${t('funnel.filterState')} value=${state} onChange=${(e) => setState(e.target.value)}>
        <option value="">${t('funnel.allStates')}</option>
        ${['joined', 'delivered', 'sent', 'pending', 'failed', 'not_invited'].map((s) => html`<option value=${s}>${t('delivery.' + s)}</option>`)}
      </${Field}>
    </div>
    <p role="status">${t('funnel.showing', { count: shown.length, total: families.length })}</p>
    <${TableWrap} label=${t('funnel.familiesTable')}>
      <table>
        <caption class="visually-hidden">${t('funnel.families')}</caption>
        <thead><tr>
          <th scope="col">${t('funnel.family')}</th><th scope="col">${t('funnel.children')}</th>
          <th scope="col">${t('common.language')}</th><th scope="col">${t('funnel.contact')}</th>
          <th scope="col">${t('funnel.invite')}</th><th scope="col">${t('funnel.invitedAt')}</th>
        </tr></thead>
        <tbody>${shown.map((f) => html`<tr>
          <th scope="row">${f.first_name} ${f.last_name}</th>
          <td>${f.children.map((k) => `${k.first_name} (${k.year_group})`).join(', ')}</td>
          <td>${t('lang.' + f.language)}</td>
          <td>${[f.has_mobile && t('common.phone'), f.has_email && t('common.email')].filter(Boolean).join(', ') || t('funnel.noContact')}</td>
          <td>${f.state === 'active'
            ? html`<span class="tag ok">${t('delivery.joined')}</span>`
            : html`<span class=${'tag ' + (deliveryTag[f.delivery] || '')}>${t('delivery.' + f.delivery)}</span>
              ${f.failure_reason && html` <span class="hint">${f.failure_reason === 'suppressed' ? t('funnel.suppressed') : t('funnel.providerError', { code: f.failure_reason })}</span>`}`}
            ${f.removal_due_at && html`<p class="hint">${t('funnel.removalDue', { date: fmt.date(f.removal_due_at) })}</p>`}</td>
          <td>${fmt.date(f.invited_at)}</td>
        </tr>`)}</tbody>
      </table>
    </${TableWrap}>
  </section>`;
}

function Resend({ school, waiting, onSent }) {
  const dialog = useRef(null);
  const opener = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(null);
  const key = useRef(null);
  const open = () => { setError(null); key.current = crypto.randomUUID(); dialog.current.showModal(); };
  const close = () => { dialog.current.close(); opener.current && opener.current.focus(); };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await api.post(`/v1/schools/${encodeURIComponent(school.id)}/invites/resend`, {}, { headers: { 'Idempotency-Key': key.current } });
      setSent(res);
      close();
      onSent();
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  };
  return html`<section aria-labelledby="resend-h">
    <h2 id="resend-h">${t('funnel.resendTitle')}</h2>
    <p>${t('funnel.resendIntro', { count: waiting })}</p>
    <button type="button" ref=${opener} onClick=${open} disabled=${waiting === 0}>${t('funnel.resend')}</button>
    ${sent && html`<p class="banner ok" role="status">${t('funnel.resent', { count: sent.invited })}</p>
      ${sent.invited > 0 && html`<${InviteProgress} schoolId=${school.id} broadcastId=${sent.broadcast_id} />`}`}
    <dialog ref=${dialog} aria-labelledby="resend-dialog-h" onClose=${() => opener.current && opener.current.focus()}>
      <h2 id="resend-dialog-h">${t('funnel.resendConfirmTitle')}</h2>
      <p>${t('funnel.resendConfirm', { count: waiting })}</p>
      <${ErrorBanner} error=${error} />
      <div class="actions">
        <button type="button" class="primary" onClick=${confirm} disabled=${busy}>${t('funnel.resendYes')}</button>
        <button type="button" onClick=${close}>${t('common.cancel')}</button>
      </div>
    </dialog>
  </section>`;
}

async function allFamilies(base) {
  const out = [];
  let cursor = '';
  for (let i = 0; i < 100; i++) {
    const q = new URLSearchParams({ limit: '200' });
    if (cursor) q.set('cursor', cursor);
    const page = await api.get(`${base}/funnel/families?${q}`);
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}

export default function Screen({ school }) {
  const base = `/v1/schools/${encodeURIComponent(school.id)}`;
  const state = useLoad(async () => {
    const [funnel, families, children, classes] = await Promise.all([
      api.get(`${base}/funnel`), allFamilies(base), api.get(`${base}/children`), api.get(`${base}/classes`)]);
    return { funnel, families, children: children.items, classes: classes.items };
  }, [school.id]);
  const [csvError, setCsvError] = useState(null);
  const classOf = useMemo(() => Object.fromEntries(((state.data && state.data.children) || []).map((k) => [k.id, k.class_ids])), [state.data]);
  return html`<section class="panel">
    <h1>${t('nav.funnel')}</h1>
    <p>${t('funnel.intro')}</p>
    <${Load} state=${state}>${(d) => {
      const waiting = d.families.filter((f) => f.state === 'invited' && (f.has_mobile || f.has_email)).length;
      return html`
        <${FunnelTable} funnel=${d.funnel} />
        <${Resend} school=${school} waiting=${waiting} onSent=${() => setTimeout(state.reload, 1500)} />
        <${Families} families=${d.families} classOf=${classOf} classes=${d.classes} />
        <p><button type="button" onClick=${() => download(`${base}/funnel/families.csv`, 'text/csv', `${school.name} families.csv`).catch(setCsvError)}>${t('funnel.csv')}</button></p>
        <${ErrorBanner} error=${csvError} />`;
    }}</${Load}>
  </section>`;
}
