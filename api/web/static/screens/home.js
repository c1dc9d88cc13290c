// A school's home: what the caller can do here, and for admins the state
// of invites and this month's SMS budget at a glance.
import { html, useEffect } from '../lib/ui.js';
import { t, fmt } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href } from '../lib/router.js';
import { useLoad, Load } from '../lib/components.js';
import { navFor } from './index.js';

function AdminSummary({ school }) {
  const base = `/v1/schools/${encodeURIComponent(school.id)}`;
  const state = useLoad(async () => {
    const [funnel, budget] = await Promise.all([api.get(`${base}/funnel`), api.get(`${base}/sms-budget`)]);
    return { funnel, budget };
  }, [school.id]);
  useEffect(() => {
    if (state.data) performance.mark('hometime:school-home');
  }, [state.data]);
  return html`<${Load} state=${state}>${({ funnel, budget }) => {
    const f = funnel.school || {};
    return html`<dl class="stats">
      <div><dt>${t('home.families')}</dt><dd>${fmt.number(f.imported || 0)}</dd></div>
      <div><dt>${t('home.joined')}</dt><dd>${fmt.number(f.joined || 0)}</dd></div>
      <div><dt>${t('home.active')}</dt><dd>${fmt.number(f.active_30d || 0)}</dd></div>
      <div><dt>${t('home.smsLeft')}</dt><dd>${fmt.pence(budget.remaining_pence)}</dd></div>
    </dl>`;
  }}</${Load}>`;
}

export default function Screen({ school }) {
  const isAdmin = (school.roles || []).includes('admin');
  useEffect(() => {
    if (!isAdmin) performance.mark('hometime:school-home');
  }, []);
  const links = navFor(school).filter((n) => n.key !== 'nav.home');
  return html`<section class="panel">
    <h1>${school.name}</h1>
    <p>${t('home.roles', { roles: (school.roles || []).map((r) => t(`role.${r}`)).join(', ') })}</p>
    ${isAdmin && html`<${AdminSummary} school=${school} />`}
    <h2>${t('home.tasks')}</h2>
    <ul class="tiles">
      ${links.map((n) => html`<li><a class="tile" href=${href(n.path)}>${t(n.key)}<span>${t(n.key + '.hint')}</span></a></li>`)}
    </ul>
  </section>`;
}
