// Children: every pupil at the school with their class and family links;
// search by name, open one to manage their family.
import { html, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href } from '../lib/router.js';
import { useLoad, Load, Field, TableWrap } from '../lib/components.js';

export default function Screen({ school }) {
  const base = `/v1/schools/${encodeURIComponent(school.id)}`;
  const state = useLoad(async () => {
    const [children, classes] = await Promise.all([api.get(`${base}/children`), api.get(`${base}/classes`)]);
    return { children: children.items, classes: Object.fromEntries(classes.items.map((c) => [c.id, c.name])) };
  }, [school.id]);
  const [q, setQ] = useState('');
  return html`<section class="panel">
    <h1>${t('nav.children')}</h1>
    <${Field} label=${t('children.search')} type="search" value=${q} onInput=${(e) => setQ(e.target.value)} />
    <${Load} state=${state}>${(d) => {
      const needle = q.trim().toLowerCase();
      const shown = d.children
        .filter((k) => !needle || `${k.first_name} ${k.last_name}`.toLowerCase().includes(needle))
        .sort((a, b) => a.last_name.localeCompare(b.last_name) || a.first_name.localeCompare(b.first_name));
      return html`<p role="status">${t('children.count', { count: shown.length })}</p>
        <${TableWrap} label=${t('nav.children')}>
          <table>
            <caption class="visually-hidden">${t('nav.children')}</caption>
            <thead><tr><th scope="col">${t('common.name')}</th><th scope="col">${t('classes.yearGroup')}</th>
              <th scope="col">${t('children.classes')}</th><th scope="col" class="num">${t('children.parents')}</th>
              <th scope="col">${t('children.pp')}</th></tr></thead>
            <tbody>${shown.map((k) => html`<tr>
              <th scope="row"><a href=${href(`/s/${encodeURIComponent(school.id)}/admin/children/${encodeURIComponent(k.id)}`)}>${k.first_name} ${k.last_name}</a></th>
              <td>${t('year.' + k.year_group)}</td>
              <td>${k.class_ids.map((id) => d.classes[id] || id).join(', ')}</td>
              <td class="num">${(k.parents || []).filter((p) => p.state === 'linked').length}</td>
              <td>${k.pupil_premium ? t('common.yes') : t('common.no')}</td>
            </tr>`)}</tbody>
          </table>
        </${TableWrap}>`;
    }}</${Load}>
  </section>`;
}
