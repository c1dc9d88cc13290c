// The subscription: end it (the school keeps working six weeks, then
// everything is purged) with the school's name typed and the admin's
// password, or restart it before the purge.
import { html, useState } from '../lib/ui.js';
import { t, fmt } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { useLoad, Load, ErrorBanner, Field, fieldErrors } from '../lib/components.js';

export default function Screen({ school, reload }) {
  const base = `/v1/schools/${encodeURIComponent(school.id)}`;
  const state = useLoad(() => api.get(base), [school.id]);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const end = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      setResult(await api.post(`${base}/subscription/end`, { confirm_school_name: name, password }));
      setPassword('');
      state.reload();
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const reactivate = async () => {
    setError(null);
    try {
      setResult(await api.post(`${base}/subscription/reactivate`));
      state.reload();
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const fe = fieldErrors(error);
  return html`<section class="panel">
    <h1>${t('nav.subscription')}</h1>
    <${Load} state=${state}>${(s) => {
      const sub = s.subscription || { state: 'active' };
      if (sub.state === 'ended') {
        return html`<p class="banner warn">${t('sub.ended', { date: fmt.date(sub.ended_at) })}
          ${result && result.purges_on && ' ' + t('sub.purges', { date: fmt.date(result.purges_on) })}</p>
          <${ErrorBanner} error=${error} />
          <button type="button" class="primary" onClick=${reactivate}>${t('sub.reactivate')}</button>`;
      }
      return html`<p class="banner ok">${t('sub.active')}</p>
        ${result && result.state === 'active' && html`<p role="status" class="status">${t('sub.reactivated')}</p>`}
        <h2>${t('sub.endTitle')}</h2>
        <p>${t('sub.endText')}</p>
        <${ErrorBanner} error=${error} />
        <form onSubmit=${end} novalidate>
          <${Field} label=${t('sub.typeName', { name: s.name })} value=${name} autocomplete="off"
            onInput=${(e) => setName(e.target.value)} error=${fe.confirm_school_name} />
          <${Field} label=${t('sub.password')} type="password" autocomplete="current-password" value=${password}
            onInput=${(e) => setPassword(e.target.value)} error=${fe.password} />
          <button type="submit" class="danger primary" disabled=${!name || !password}>${t('sub.end')}</button>
        </form>`;
    }}</${Load}>
  </section>`;
}
