// Staff and roles: who works here, as teacher or admin, and inviting more.
// An invitation is the same answer for every address; the person joins by
// accepting it after signing in.
import { html, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { useLoad, Load, ErrorBanner, Field, TableWrap, fieldErrors } from '../lib/components.js';

const ROLES = ['teacher', 'admin'];

function Roles({ legend, value, onChange, idPrefix }) {
  return html`<fieldset class="roles">
    <legend>${legend}</legend>
    ${ROLES.map((r) => html`<div class="check">
      <input type="checkbox" id=${idPrefix + r} checked=${value.includes(r)}
        onChange=${(e) => onChange(e.target.checked ? [...value, r] : value.filter((x) => x !== r))} />
      <label for=${idPrefix + r}>${t('role.' + r)}</label>
    </div>`)}
  </fieldset>`;
}

function StaffRow({ school, member, me, onSaved }) {
  const [roles, setRoles] = useState(member.roles);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const changed = roles.slice().sort().join() !== member.roles.slice().sort().join();
  const save = async () => {
    setError(null);
    setSaved(false);
    try {
      await api.put(`/v1/schools/${encodeURIComponent(school.id)}/staff/${encodeURIComponent(member.id)}/roles`, { roles });
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  const name = [member.title, member.first_name, member.last_name].filter(Boolean).join(' ');
  return html`<tr>
    <th scope="row">${name}${member.id === me.id && html` <span class="tag">${t('staff.you')}</span>`}</th>
    <td>${member.email}</td>
    <td><${Roles} legend=${t('staff.rolesFor', { name })} value=${roles} onChange=${setRoles} idPrefix=${`r-${member.id}-`} /></td>
    <td>
      <button type="button" disabled=${!changed || roles.length === 0} onClick=${save}>${t('common.save')}</button>
      ${saved && html`<span role="status" class="status"> ${t('common.saved')}</span>`}
      <${ErrorBanner} error=${error} />
    </td>
  </tr>`;
}

function Invite({ school, onInvited }) {
  const empty = { email: '', title: '', first_name: '', last_name: '', roles: ['teacher'] };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState(null);
  const [done, setDone] = useState('');
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setDone('');
    const body = { ...form };
    if (!body.title) delete body.title;
    try {
      await api.post(`/v1/schools/${encodeURIComponent(school.id)}/staff`, body);
      setDone(form.email);
      setForm(empty);
      onInvited();
    } catch (err) {
      setError(err);
    }
  };
  const fe = fieldErrors(error);
  return html`<section aria-labelledby="invite-staff-h">
    <h2 id="invite-staff-h">${t('staff.inviteTitle')}</h2>
    <p>${t('staff.inviteIntro')}</p>
    <${ErrorBanner} error=${error} />
    ${done && html`<p class="banner ok" role="status">${t('staff.invited', { email: done })}</p>`}
    <form onSubmit=${submit} novalidate>
      <${Field} label=${t('staff.email')} type="email" autocomplete="off" value=${form.email} onInput=${set('email')} error=${fe.email} required />
      <${Field} label=${t('staff.title')} hint=${t('staff.titleHint')} value=${form.title} onInput=${set('title')} error=${fe.title} />
      <${Field} label=${t('staff.firstName')} value=${form.first_name} onInput=${set('first_name')} error=${fe.first_name} required />
      <${Field} label=${t('staff.lastName')} value=${form.last_name} onInput=${set('last_name')} error=${fe.last_name} required />
      <${Roles} legend=${t('staff.roles')} value=${form.roles} onChange=${(roles) => setForm({ ...form, roles })} idPrefix="new-" />
      ${fe.roles && html`<p class="field-error">${fe.roles}</p>`}
      <button type="submit" class="primary">${t('staff.invite')}</button>
    </form>
  </section>`;
}

export default function Screen({ school, me, reload }) {
  const staff = useLoad(() => api.get(`/v1/schools/${encodeURIComponent(school.id)}/staff`), [school.id]);
  return html`<section class="panel">
    <h1>${t('nav.staff')}</h1>
    <${Load} state=${staff}>${(d) => html`<${TableWrap} label=${t('nav.staff')}>
      <table>
        <caption class="visually-hidden">${t('nav.staff')}</caption>
        <thead><tr><th scope="col">${t('common.name')}</th><th scope="col">${t('common.email')}</th>
          <th scope="col">${t('staff.roles')}</th><th scope="col">${t('common.actions')}</th></tr></thead>
        <tbody>${d.items.map((m) => html`<${StaffRow} key=${m.id} school=${school} member=${m} me=${me}
          onSaved=${() => { staff.reload(); if (m.id === me.id) reload(); }} />`)}</tbody>
      </table>
    </${TableWrap}>`}</${Load}>
    <${Invite} school=${school} onInvited=${staff.reload} />
  </section>`;
}
