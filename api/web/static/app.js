// The staff web app's shell: restores the session from the refresh cookie,
// loads the caller and their schools, and draws the screen the hash names
// inside the header and the school's navigation.
import { html, render, useState, useEffect, useRef } from './lib/ui.js';
import { api, refresh, signOut, onSignedOut } from './lib/api.js';
import * as i18n from './lib/i18n.js';
import { t } from './lib/i18n.js';
import { usePath, match, navigate, query, currentPath, href, handoff } from './lib/router.js';
import { screens, navFor } from './screens/index.js';
import { ErrorBanner, Loading } from './lib/components.js';

// loadSession reads the caller and their schools (null when signed out).
export async function loadSession() {
  const [me, schools] = await Promise.all([api.get('/v1/me'), api.get('/v1/schools')]);
  return { me, schools: schools.items || [] };
}

const modules = new Map();
function loadModule(entry) {
  if (!modules.has(entry.path)) {
    const p = entry.load().then((m) => m.default);
    p.catch(() => modules.delete(entry.path));
    modules.set(entry.path, p);
  }
  return modules.get(entry.path);
}

function resolve(path) {
  const bare = path.split('?')[0];
  for (const entry of screens) {
    const params = match(entry.path, bare);
    if (params) return { entry, params };
  }
  return null;
}

const rolesAt = (school) => (school && school.roles) || [];

function ScreenHost({ entry, props }) {
  const [Screen, setScreen] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    setScreen(null);
    loadModule(entry).then((S) => live && setScreen(() => S), (e) => live && setError(e));
    return () => { live = false; };
  }, [entry]);
  if (error) return html`<${ErrorBanner} error=${{ code: 'network', message: t('error.network') }} />`;
  if (!Screen) return html`<${Loading} />`;
  return html`<${Screen} ...${props} />`;
}

function LanguageSwitch() {
  const other = i18n.language() === 'cy' ? i18n.LANGUAGES[0] : i18n.LANGUAGES[1];
  return html`<button type="button" class="link-button lang" lang=${other.code}
    onClick=${() => i18n.setLanguage(other.code)}>${other.name}</button>`;
}

function Layout({ session, school, path, onSignOut, children }) {
  const main = useRef(null);
  const first = useRef(true);
  useEffect(() => {
    // After the first screen, a route change moves focus to the content,
    // as a new page would, so keyboard and screen-reader users start there.
    if (first.current) { first.current = false; return; }
    if (main.current) main.current.focus({ preventScroll: false });
  }, [path.split('?')[0]]);
  useEffect(() => {
    document.title = school ? `${school.name} – Hometime` : t('app.title');
  });
  const skip = (e) => { e.preventDefault(); main.current && main.current.focus(); };
  const nav = school ? navFor(school) : [];
  const bare = path.split('?')[0];
  const me = session && session.me;
  return html`
    <header class="top">
      <a class="skip" href=${href(path)} onClick=${skip}>${t('app.skip')}</a>
      <div class="top-row">
        <a class="brand" href=${href(session ? '/schools' : '/signin')}>${t('app.brand')}</a>
        ${school && html`<span class="school-name">${school.name}</span>`}
        <div class="top-actions">
          <${LanguageSwitch} />
          ${me && html`<span class="who">${me.first_name} ${me.last_name}</span>`}
          ${me && html`<button type="button" class="link-button" onClick=${onSignOut}>${t('app.signOut')}</button>`}
        </div>
      </div>
      ${nav.length > 0 && html`
        <nav aria-label=${t('nav.label')}>
          <ul class="nav">
            ${nav.map((n) => {
              const current = bare === n.path || (n.key !== 'nav.home' && bare.startsWith(n.path + '/'));
              return html`<li><a href=${href(n.path)} aria-current=${current ? 'page' : undefined}>${t(n.key)}</a></li>`;
            })}
          </ul>
        </nav>`}
    </header>
    <main id="main" ref=${main} tabindex="-1">${children}</main>`;
}

function Message({ title, text, action }) {
  return html`<section class="panel narrow"><h1>${title}</h1><p>${text}</p>${action}</section>`;
}

function App({ initial }) {
  const path = usePath();
  const [session, setSession] = useState(initial);
  const [, setLang] = useState(i18n.language());
  // Whose page a "?next=" after the sign-in may return to: the account
  // whose session ran out, or '' after a sign-out (no one's), or null on
  // a fresh load (a link followed while signed out).
  const endedFor = useRef(null);
  useEffect(() => i18n.onLanguage(setLang), []);
  useEffect(() => onSignedOut(() => {
    setSession((s) => {
      if (s && endedFor.current === null) endedFor.current = s.me.id;
      return null;
    });
    const here = currentPath();
    if (!here.startsWith('/signin')) navigate('/signin?next=' + encodeURIComponent(here));
  }), []);

  const reload = async () => {
    const s = await loadSession();
    setSession(s);
    return s;
  };
  const doSignOut = async () => {
    // The next person to sign in is never sent back to where this one
    // was: the page goes to a bare /signin, and any "?next=" is ignored
    // until someone signs in again.
    endedFor.current = '';
    navigate('/signin');
    try { await signOut(); } finally { setSession(null); }
  };

  const bare = path.split('?')[0];
  let target = null;
  if (bare === '/') target = session ? (session.schools.length === 1 ? `/s/${encodeURIComponent(session.schools[0].id)}` : '/schools') : '/signin';
  const r = target ? null : resolve(path);
  // The address may still be the last page when the session ends (the
  // hash change is an event away): after a sign-out it is not kept.
  if (!target && r && !r.entry.public && !session) target = endedFor.current === '' ? '/signin' : '/signin?next=' + encodeURIComponent(path);
  useEffect(() => { if (target) navigate(target); }, [target]);
  if (target) return null;

  if (!r) {
    return html`<${Layout} session=${session} path=${path} onSignOut=${doSignOut}>
      <${Message} title=${t('notFound.title')} text=${t('notFound.text')}
        action=${html`<p><a href=${href('/')}>${t('notFound.home')}</a></p>`} /></${Layout}>`;
  }
  const { entry, params } = r;
  const school = params.schoolId && session ? session.schools.find((s) => s.id === params.schoolId) : null;
  // Dates and times on the school's screens are the school's wall-clock.
  i18n.setTimeZone(school && school.time_zone);
  if (params.schoolId && !school) {
    return html`<${Layout} session=${session} path=${path} onSignOut=${doSignOut}>
      <${Message} title=${t('notFound.title')} text=${t('notFound.school')}
        action=${html`<p><a href=${href('/schools')}>${t('schools.title')}</a></p>`} /></${Layout}>`;
  }
  if (entry.roles && school && !entry.roles.some((x) => rolesAt(school).includes(x))) {
    return html`<${Layout} session=${session} school=${school} path=${path} onSignOut=${doSignOut}>
      <${Message} title=${t('forbidden.title')} text=${t('forbidden.text')} /></${Layout}>`;
  }
  const props = {
    me: session && session.me, school, params, query: query(path), navigate, reload,
    // onSignedIn reloads the session and says whether a "?next=" page may
    // be opened: not after a sign-out, nor when the session that ran out
    // was someone else's.
    onSignedIn: async () => {
      const s = await reload();
      const ended = endedFor.current;
      endedFor.current = null;
      return ended === null || ended === s.me.id;
    },
  };
  return html`<${Layout} session=${session} school=${school} path=${path} onSignOut=${doSignOut}>
    <${ScreenHost} key=${entry.path + JSON.stringify(params)} entry=${entry} props=${props} />
  </${Layout}>`;
}

async function boot() {
  await i18n.init();
  let initial = null;
  if (await refresh()) {
    try { initial = await loadSession(); } catch { initial = null; }
  }
  // A password-reset link (/reset-password?token=…) opens the reset screen;
  // the token is kept in memory and taken out of the address bar.
  if (location.pathname === '/reset-password') {
    const token = new URLSearchParams(location.search).get('token') || '';
    handoff.resetToken = token;
    history.replaceState(null, '', '/#/reset/confirm');
  }
  const root = document.getElementById('app');
  root.textContent = '';
  render(html`<${App} initial=${initial} />`, root);
  performance.mark('hometime:first-render');
}

boot();
