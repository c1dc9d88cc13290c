// Classes: add, rename, change year group and teachers, remove.
import { html, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { useLoad, Load, ErrorBanner, Field, fieldErrors } from '../lib/components.js';

export const YEAR_GROUPS = ['N', 'R', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6'];

function ClassForm({ initial, staff, onSubmit, submitLabel, idPrefix }) {
  const [form, setForm] = useState({ name: initial.name || '', year_group: initial.year_group || 'R', teacher_ids: initial.teacher_ids || [] });
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await onSubmit(form);
      setSaved(true);
    } catch (err) {
      setError(err);
    }
  };
  const fe = fieldErrors(error);
  return html`<form onSubmit=${submit} novalidate>
    <${ErrorBanner} error=${error} />
    <${Field} label=${t('classes.name')} value=${form.name} onInput=${(e) => setForm({ ...form, name: e.target.value })} error=${fe.name} required />
    <${Field} as="select" label=${t('classes.yearGroup')} value=${form.year_group} onChange=${(e) => setForm({ ...form, year_group: e.target.value })} error=${fe.year_group}>
      ${YEAR_GROUPS.map((y) => html`<option value=${y}>${t('year.' + y)}</option>`)}
    </${Field}>
    <fieldset>
      <legend>${t('classes.teachers')}</legend>
      ${staff.map((s) => html`<div class="check">
        <input type="checkbox" id=${idPrefix + s.id} checked=${form.teacher_ids.includes(s.id)}
          onChange=${(e) => setForm({ ...form, teacher_ids: e.target.checked ? [...form.teacher_ids, s.id] : form.teacher_ids.filter((x) => x !== s.id) })} />
        <label for=${idPrefix + s.id}>${s.first_name} ${s.last_name}</label>
      </div>`)}
    </fieldset>
    <div class="actions"><button type="submit" class="primary">${submitLabel}</button>
      ${saved && html`<span role="status" class="status">${t('common.saved')}</span>`}</div>
  </form>`;
}

function ClassCard({ school, cls, staff, onChanged }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState(null);
  const base = `/v1/schools/${encodeURIComponent(school.id)}/classes/${encodeURIComponent(cls.id)}`;
  const teachers = staff.filter((s) => cls.teacher_ids.includes(s.id)).map((s) => `${s.first_name} ${s.last_name}`).join(', ');
  const remove = async () => {
    if (!window.confirm(t('classes.removeConfirm', { name: cls.name }))) return;
    setError(null);
    try {
      await api.del(base);
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  return html`<li class="card">
    <h2>${cls.name}</h2>
    <p>${t('year.' + cls.year_group)} · ${teachers || t('classes.noTeacher')}</p>
    <${ErrorBanner} error=${error} />
    <div class="actions">
      <button type="button" aria-expanded=${editing} onClick=${() => setEditing(!editing)}>${t('common.edit')}<span class="visually-hidden"> ${cls.name}</span></button>
      <button type="button" class="danger" onClick=${remove}>${t('common.remove')}<span class="visually-hidden"> ${cls.name}</span></button>
    </div>
    ${editing && html`<${ClassForm} initial=${cls} staff=${staff} idPrefix=${`t-${cls.id}-`} submitLabel=${t('common.save')}
      onSubmit=${async (form) => { await api.patch(base, form); onChanged(); }} />`}
  </li>`;
}

export default function Screen({ school }) {
  const base = `/v1/schools/${encodeURIComponent(school.id)}`;
  const state = useLoad(async () => {
    const [classes, staff] = await Promise.all([api.get(`${base}/classes`), api.get(`${base}/staff`)]);
    return { classes: classes.items, staff: staff.items };
  }, [school.id]);
  const [adding, setAdding] = useState(0);
  return html`<section class="panel">
    <h1>${t('nav.adminClasses')}</h1>
    <${Load} state=${state}>${(d) => html`
      <ul class="cards">${d.classes.map((c) => html`<${ClassCard} key=${c.id} school=${school} cls=${c} staff=${d.staff} onChanged=${state.reload} />`)}</ul>
      <h2>${t('classes.addTitle')}</h2>
      <${ClassForm} key=${adding} initial=${{}} staff=${d.staff} idPrefix="new-t-" submitLabel=${t('classes.add')}
        onSubmit=${async (form) => { await api.post(`${base}/classes`, form); setAdding(adding + 1); state.reload(); }} />`}
    </${Load}>
  </section>`;
}
