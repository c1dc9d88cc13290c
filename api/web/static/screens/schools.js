// The schools where the caller holds a role, and invitations to join more.
import { html, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href } from '../lib/router.js';
import { useLoad, Load, ErrorBanner } from '../lib/components.js';

function roleNames(roles) {
  return (roles || []).map((r) => t(`role.${r}`)).join(', ');
}

function Invitations({ reload }) {
  const inv = useLoad(() => api.get('/v1/me/staff-invitations'), []);
  const [error, setError] = useState(null);
  const accept = async (id) => {
    setError(null);
    try {
      await api.post(`/v1/me/staff-invitations/${encodeURIComponent(id)}/accept`);
      await reload();
      inv.reload();
    } catch (err) {
      setError(err);
    }
  };
  const items = (inv.data && inv.data.items) || [];
  if (!items.length) return null;
  return html`<section class="panel">
    <h2>${t('schools.invitations')}</h2>
    <${ErrorBanner} error=${error} />
    <ul class="cards">
      ${items.map((i) => html`<li class="card">
        <h3>${i.school_name}</h3>
        <p>${roleNames(i.roles)}</p>
        <button type="button" class="primary" onClick=${() => accept(i.id)}>${t('schools.accept', { school: i.school_name })}</button>
      </li>`)}
    </ul>
  </section>`;
}

export default function Screen({ reload }) {
  const schools = useLoad(() => api.get('/v1/schools'), []);
  return html`<section class="panel">
      <h1>${t('schools.title')}</h1>
      <${Load} state=${schools}>${(d) => d.items.length === 0
        ? html`<p>${t('schools.none')}</p>`
        : html`<ul class="cards">
          ${d.items.map((s) => html`<li class="card">
            <h2><a href=${href(`/s/${encodeURIComponent(s.id)}`)}>${s.name}</a></h2>
            <p>${roleNames(s.roles)}</p>
            ${s.subscription && s.subscription.state === 'ended' && html`<p class="tag warn">${t('subscription.ended')}</p>`}
          </li>`)}
        </ul>`}</${Load}>
    </section>
    <${Invitations} reload=${async () => { await reload(); schools.reload(); }} />`;
}
