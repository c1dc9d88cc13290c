// Forgotten password: asks for the email and says a link is on its way
// (the same answer whether or not the address has an account).
import { html, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href } from '../lib/router.js';
import { Field, ErrorBanner, fieldErrors } from '../lib/components.js';

export default function Screen() {
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/v1/auth/password-reset', { email: email.trim() });
      setSent(true);
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  };
  return html`<section class="panel narrow">
    <h1>${t('reset.title')}</h1>
    ${sent
      ? html`<p role="status" class="banner ok">${t('reset.sent')}</p>`
      : html`<p>${t('reset.intro')}</p>
        <${ErrorBanner} error=${error} />
        <form onSubmit=${submit} novalidate>
          <${Field} label=${t('signin.email')} type="email" autocomplete="username" required
            value=${email} onInput=${(e) => setEmail(e.target.value)} error=${fieldErrors(error).email} />
          <button type="submit" class="primary" disabled=${busy}>${t('reset.submit')}</button>
        </form>`}
    <p><a href=${href('/signin')}>${t('reset.back')}</a></p>
  </section>`;
}
