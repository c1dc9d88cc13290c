// SMS budget and the message log: this month's spend against the budget,
// texts refused for want of budget, changing the budget, and every
// broadcast the school has sent with how its delivery went.
import { html, useState, useEffect } from '../lib/ui.js';
import { t, fmt } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { useLoad, Load, ErrorBanner, Field, TableWrap, fieldErrors } from '../lib/components.js';

function Budget({ school, budget, onSaved }) {
  const [pounds, setPounds] = useState((budget.budget_pence / 100).toFixed(2));
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    const pence = Math.round(Number(pounds) * 100);
    if (!Number.isFinite(pence) || pence < 0) {
      setError({ code: 'invalid', fields: { sms_budget_pence: t('messages.budgetBad') } });
      return;
    }
    try {
      await api.patch(`/v1/schools/${encodeURIComponent(school.id)}`, { sms_budget_pence: pence });
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  const used = budget.budget_pence ? Math.min(budget.spent_pence, budget.budget_pence) : 0;
  return html`<section aria-labelledby="budget-h">
    <h2 id="budget-h">${t('messages.budgetTitle', { month: budget.month })}</h2>
    <div class="meter-label"><span id="spent-label">${t('messages.spent', { spent: fmt.pence(budget.spent_pence), budget: fmt.pence(budget.budget_pence) })}</span>
      <span>${t('messages.left', { left: fmt.pence(budget.remaining_pence) })}</span></div>
    <progress aria-labelledby="spent-label" max=${Math.max(1, budget.budget_pence)} value=${used}></progress>
    ${budget.refused_messages > 0
      ? html`<p class="banner warn">${t('messages.refused', { count: budget.refused_messages, when: fmt.dateTime(budget.last_refused_at) })}</p>`
      : html`<p>${t('messages.noneRefused')}</p>`}
    <form onSubmit=${save} novalidate>
      <${Field} label=${t('messages.budgetLabel')} hint=${t('messages.budgetHint')} type="number" min="0" step="0.01" inputmode="decimal"
        value=${pounds} onInput=${(e) => setPounds(e.target.value)} error=${fieldErrors(error).sms_budget_pence} />
      <button type="submit">${t('messages.budgetSave')}</button>
      ${saved && html`<span role="status" class="status"> ${t('common.saved')}</span>`}
    </form>
    ${error && !fieldErrors(error).sms_budget_pence && html`<${ErrorBanner} error=${error} />`}
  </section>`;
}

function Log({ school }) {
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState('');
  const [more, setMore] = useState(false);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const load = async (after) => {
    setLoading(true);
    try {
      const q = new URLSearchParams({ limit: '20' });
      if (after) q.set('cursor', after);
      const page = await api.get(`/v1/schools/${encodeURIComponent(school.id)}/messages?${q}`);
      setItems((prev) => (after ? [...prev, ...page.items] : page.items));
      setCursor(page.next_cursor || '');
      setMore(!!page.next_cursor);
    } catch (err) {
      setError(err);
    }
    setLoading(false);
  };
  useEffect(() => { load(''); }, [school.id]);
  return html`<section aria-labelledby="log-h">
    <h2 id="log-h">${t('messages.logTitle')}</h2>
    <${ErrorBanner} error=${error} />
    ${items.length === 0 && !loading ? html`<p>${t('messages.none')}</p>` : html`
      <${TableWrap} label=${t('messages.logTitle')}>
        <table>
          <caption class="visually-hidden">${t('messages.logTitle')}</caption>
          <thead><tr><th scope="col">${t('messages.when')}</th><th scope="col">${t('messages.what')}</th>
            <th scope="col" class="num">${t('messages.recipients')}</th><th scope="col">${t('messages.state')}</th></tr></thead>
          <tbody>${items.map((m) => html`<tr>
            <td>${fmt.dateTime(m.created_at)}</td>
            <td>${t('template.' + m.template) !== 'template.' + m.template ? t('template.' + m.template) : m.template}
              ${m.urgent && html` <span class="tag warn">${t('messages.urgent')}</span>`}
              ${m.important && html` <span class="tag">${t('messages.important')}</span>`}</td>
            <td class="num">${fmt.number(m.recipients)}</td>
            <td>${t('broadcastState.' + m.state)}</td>
          </tr>`)}</tbody>
        </table>
      </${TableWrap}>`}
    ${more && html`<button type="button" onClick=${() => load(cursor)} disabled=${loading}>${t('common.next')}</button>`}
  </section>`;
}

export default function Screen({ school }) {
  const budget = useLoad(() => api.get(`/v1/schools/${encodeURIComponent(school.id)}/sms-budget`), [school.id]);
  return html`<section class="panel">
    <h1>${t('nav.messages')}</h1>
    <${Load} state=${budget}>${(b) => html`<${Budget} school=${school} budget=${b} onSaved=${budget.reload} />`}</${Load}>
    <${Log} school=${school} />
  </section>`;
}
