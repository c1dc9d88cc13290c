// Sign-in for school staff. Parents are told to use the mobile app.
import { html, useState } from '../lib/ui.js';
import { t } from '../lib/i18n.js';
import { signIn } from '../lib/api.js';
import { href } from '../lib/router.js';
import { Field, ErrorBanner, fieldErrors } from '../lib/components.js';

export default function Screen({ query, navigate, onSignedIn }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
      const mayReturn = await onSignedIn();
      const next = mayReturn && query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('/signin') ? next : '/');
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const fe = fieldErrors(error);
  return html`<section class="panel narrow">
    <h1>${t('signin.title')}</h1>
    <p>${t('signin.intro')}</p>
    <${ErrorBanner} error=${error} />
    <form onSubmit=${submit} novalidate>
      <${Field} label=${t('signin.email')} type="email" name="email" autocomplete="username" required
        value=${email} onInput=${(e) => setEmail(e.target.value)} error=${fe.email} />
      <${Field} label=${t('signin.password')} type="password" name="password" autocomplete="current-password" required
        value=${password} onInput=${(e) => setPassword(e.target.value)} error=${fe.password} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? t('signin.busy') : t('signin.submit')}</button>
    </form>
    <p><a href=${href('/reset')}>${t('signin.forgot')}</a></p>
  </section>`;
}
