// Sets a new password with the token from the emailed link (opened as
// /reset-password?token=…, which the shell hands over in memory).
import { html, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href, handoff } from '../lib/router.js';
import { Field, ErrorBanner, fieldErrors } from '../lib/components.js';

export default function Screen() {
  const [token] = useState(() => handoff.resetToken);
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setMismatch(password !== again);
    if (password !== again) return;
    setBusy(true);
    setError(null);
    try {
      await api.post('/v1/auth/password-reset/confirm', { token, password });
      handoff.resetToken = '';
      setDone(true);
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  };
  const fe = fieldErrors(error);
  if (done) {
    return html`<section class="panel narrow"><h1>${t('resetConfirm.title')}</h1>
      <p role="status" class="banner ok">${t('resetConfirm.done')}</p>
      <p><a href=${href('/signin')}>${t('signin.submit')}</a></p></section>`;
  }
  if (!token) {
    return html`<section class="panel narrow"><h1>${t('resetConfirm.title')}</h1>
      <p>${t('resetConfirm.noToken')}</p><p><a href=${href('/reset')}>${t('signin.forgot')}</a></p></section>`;
  }
  return html`<section class="panel narrow">
    <h1>${t('resetConfirm.title')}</h1>
    <${ErrorBanner} error=${error} />
    ${fe.token && html`<p class="banner error" role="alert">${t('resetConfirm.badToken')}</p>`}
    <form onSubmit=${submit} novalidate>
      <${Field} label=${t('resetConfirm.password')} hint=${t('resetConfirm.hint')} type="password" autocomplete="new-password" required
        value=${password} onInput=${(e) => setPassword(e.target.value)} error=${fe.password} />
      <${Field} label=${t('resetConfirm.again')} type="password" autocomplete="new-password" required
        value=${again} onInput=${(e) => setAgain(e.target.value)} error=${mismatch ? t('resetConfirm.mismatch') : ''} />
      <button type="submit" class="primary" disabled=${busy}>${t('resetConfirm.submit')}</button>
    </form>
  </section>`;
}
