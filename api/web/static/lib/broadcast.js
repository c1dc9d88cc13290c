// Following a broadcast (an import's invites, a resend) while it goes out.
import { html, useState, useEffect } from './ui.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { ErrorBanner } from './components.js';

// InviteProgress follows a broadcast until every message is out.
export function InviteProgress({ schoolId, broadcastId }) {
  const [b, setB] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    let timer;
    const tick = async () => {
      try {
        const got = await api.get(`/v1/schools/${encodeURIComponent(schoolId)}/broadcasts/${encodeURIComponent(broadcastId)}`);
        if (!live) return;
        setB(got);
        const c = got.counts || {};
        const out = (c.sent || 0) + (c.delivered || 0) + (c.read || 0) + (c.failed || 0) + (c.suppressed || 0) + (c.unknown || 0);
        if (got.state !== 'done' && !(got.recipients > 0 && out >= got.recipients)) timer = setTimeout(tick, 1000);
      } catch (e) {
        if (live) setError(e);
      }
    };
    tick();
    return () => { live = false; clearTimeout(timer); };
  }, [broadcastId]);
  if (error) return html`<${ErrorBanner} error=${error} />`;
  const c = (b && b.counts) || {};
  const done = (c.sent || 0) + (c.delivered || 0) + (c.read || 0) + (c.failed || 0) + (c.suppressed || 0) + (c.unknown || 0);
  const total = (b && b.recipients) || 0;
  const finished = b && (b.state === 'done' || (total > 0 && done >= total));
  return html`<div class="progress-block">
    <div class="meter-label"><span id="invites-label">${t('import.sending')}</span>
      <span aria-live="polite">${finished ? t('import.sendingDone', { done, total }) : t('import.sendingCount', { done, total })}</span></div>
    <progress aria-labelledby="invites-label" max=${Math.max(total, 1)} value=${total ? done : undefined}></progress>
    ${(c.deferred || 0) > 0 && html`<p>${t('import.deferred', { count: c.deferred })}</p>`}
  </div>`;
}

