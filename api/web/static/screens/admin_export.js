// School export: a zip of the school's data (export.json and photos),
// prepared in the background; the download works for 24 hours.
import { html, useState, useEffect } from '../lib/ui.js';
import { t, fmt } from '../lib/i18n.js';
import { api, download } from '../lib/api.js';
import { ErrorBanner } from '../lib/components.js';

export default function Screen({ school }) {
  const base = `/v1/schools/${encodeURIComponent(school.id)}`;
  const [exp, setExp] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!exp || exp.state !== 'queued') return undefined;
    const timer = setTimeout(async () => {
      try { setExp(await api.get(`${base}/exports/${encodeURIComponent(exp.id)}`)); } catch (err) { setError(err); }
    }, 1500);
    return () => clearTimeout(timer);
  }, [exp]);
  const start = async () => {
    setError(null);
    setBusy(true);
    try { setExp(await api.post(`${base}/export`)); } catch (err) { setError(err); }
    setBusy(false);
  };
  return html`<section class="panel">
    <h1>${t('nav.export')}</h1>
    <p>${t('export.intro')}</p>
    <${ErrorBanner} error=${error} />
    ${!exp && html`<button type="button" class="primary" onClick=${start} disabled=${busy}>${t('export.start')}</button>`}
    ${exp && exp.state === 'queued' && html`<div><span id="export-label">${t('export.queued')}</span>
      <progress aria-labelledby="export-label"></progress></div>`}
    ${exp && exp.state === 'failed' && html`<p class="banner error" role="alert">${t('export.failed')}</p>
      <button type="button" onClick=${start}>${t('export.again')}</button>`}
    ${exp && exp.state === 'ready' && html`<div role="status">
      <p class="banner ok">${t('export.ready', { expires: fmt.dateTime(exp.expires_at) })}</p>
      <button type="button" class="primary" onClick=${() => download(exp.download_url, 'application/zip', `${school.name} export.zip`).catch(setError)}>${t('export.download')}</button>
    </div>`}
  </section>`;
}
