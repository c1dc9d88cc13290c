// One child: their details, the parents and carers linked to them, linking
// another, and unlinking one for safeguarding (which asks for a reason that
// is audited and never shown to the parent).
import { html, useState, useRef } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href } from '../lib/router.js';
import { useLoad, Load, ErrorBanner, Field, fieldErrors } from '../lib/components.js';

const LANGS = ['en', 'cy', 'pl', 'ur', 'es', 'ro', 'ar'];

function Unlink({ base, parent, onDone }) {
  const dialog = useRef(null);
  const opener = useRef(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState(null);
  const open = () => { setReason(''); setError(null); dialog.current.showModal(); };
  const close = () => { dialog.current.close(); };
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api.del(`${base}/parents/${encodeURIComponent(parent.id)}`, { reason });
      close();
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  const name = `${parent.first_name} ${parent.last_name}`;
  return html`<span>
    <button type="button" class="danger" ref=${opener} onClick=${open}>${t('child.unlink')}<span class="visually-hidden"> ${name}</span></button>
    <dialog ref=${dialog} aria-labelledby=${'unlink-h-' + parent.id} onClose=${() => opener.current && opener.current.focus()}>
      <form onSubmit=${submit} novalidate>
        <h2 id=${'unlink-h-' + parent.id}>${t('child.unlinkTitle', { name })}</h2>
        <p>${t('child.unlinkText')}</p>
        <${ErrorBanner} error=${error} />
        <${Field} as="textarea" label=${t('child.reason')} hint=${t('child.reasonHint')} value=${reason} maxlength="500"
          onInput=${(e) => setReason(e.target.value)} error=${fieldErrors(error).reason} required />
        <div class="actions">
          <button type="submit" class="danger primary" disabled=${!reason.trim()}>${t('child.unlinkConfirm')}</button>
          <button type="button" onClick=${close}>${t('common.cancel')}</button>
        </div>
      </form>
    </dialog>
  </span>`;
}

function LinkParent({ base, onDone }) {
  const empty = { first_name: '', last_name: '', phone: '', email: '', language: 'en', relationship: '', reason: '' };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    const body = Object.fromEntries(Object.entries(form).filter(([, v]) => v.trim() !== ''));
    try {
      await api.post(`${base}/parents`, body);
      setForm(empty);
      setDone(true);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  const fe = fieldErrors(error);
  return html`<section aria-labelledby="link-h">
    <h2 id="link-h">${t('child.linkTitle')}</h2>
    <p>${t('child.linkIntro')}</p>
    <${ErrorBanner} error=${error} />
    ${done && html`<p class="banner ok" role="status">${t('child.linked')}</p>`}
    <form onSubmit=${submit} novalidate>
      <${Field} label=${t('staff.firstName')} value=${form.first_name} onInput=${set('first_name')} error=${fe.first_name} />
      <${Field} label=${t('staff.lastName')} value=${form.last_name} onInput=${set('last_name')} error=${fe.last_name} />
      <${Field} label=${t('common.phone')} type="tel" value=${form.phone} onInput=${set('phone')} error=${fe.phone} />
      <${Field} label=${t('common.email')} type="email" value=${form.email} onInput=${set('email')} error=${fe.email} />
      <${Field} as="select" label=${t('common.language')} value=${form.language} onChange=${set('language')} error=${fe.language}>
        ${LANGS.map((l) => html`<option value=${l}>${t('lang.' + l)}</option>`)}
      </${Field}>
      <${Field} label=${t('child.relationship')} hint=${t('child.relationshipHint')} value=${form.relationship} onInput=${set('relationship')} error=${fe.relationship} />
      ${fe.reason && html`<${Field} as="textarea" label=${t('child.relinkReason')} hint=${fe.reason} value=${form.reason} onInput=${set('reason')} />`}
      <button type="submit" class="primary">${t('child.link')}</button>
    </form>
  </section>`;
}

export default function Screen({ school, params }) {
  const sbase = `/v1/schools/${encodeURIComponent(school.id)}`;
  const base = `${sbase}/children/${encodeURIComponent(params.childId)}`;
  const state = useLoad(async () => {
    const child = await api.get(base);
    const links = (child.parents || []).filter((p) => p.state === 'linked');
    const parents = await Promise.all(links.map(async (l) => ({ ...(await api.get(`${sbase}/parents/${encodeURIComponent(l.parent_id)}`)), relationship: l.relationship })));
    return { child, parents };
  }, [params.childId]);
  const [message, setMessage] = useState('');
  return html`<section class="panel">
    <p><a href=${href(`/s/${encodeURIComponent(school.id)}/admin/children`)}>${t('child.back')}</a></p>
    <${Load} state=${state}>${({ child, parents }) => html`
      <h1>${child.first_name} ${child.last_name}</h1>
      <dl class="stats">
        <div><dt>${t('classes.yearGroup')}</dt><dd>${t('year.' + child.year_group)}</dd></div>
        <div><dt>${t('child.upn')}</dt><dd>${child.upn || t('common.none')}</dd></div>
        <div><dt>${t('children.pp')}</dt><dd>${child.pupil_premium ? t('common.yes') : t('common.no')}</dd></div>
      </dl>
      ${message && html`<p class="banner ok" role="status">${message}</p>`}
      <h2>${t('child.parentsTitle')}</h2>
      ${parents.length === 0 ? html`<p>${t('child.noParents')}</p>` : html`<ul class="cards">
        ${parents.map((p) => html`<li class="card">
          <h3>${p.first_name} ${p.last_name}</h3>
          <p>${p.relationship || ''} ${p.relationship && '·'} ${t('parentState.' + p.state)} · ${t('lang.' + p.language)}</p>
          <p>${[p.phone, p.email].filter(Boolean).join(' · ')}</p>
          <${Unlink} base=${base} parent=${p} onDone=${() => { setMessage(t('child.unlinked', { name: `${p.first_name} ${p.last_name}` })); state.reload(); }} />
        </li>`)}
      </ul>`}
      <${LinkParent} base=${base} onDone=${state.reload} />`}
    </${Load}>
  </section>`;
}
