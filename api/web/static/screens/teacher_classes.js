// A teacher's classes (an admin sees every class), each with what has been
// set for it: activities, release time, due date, state, and the way to
// its submissions; and the way to set something new.
import { html, useState, useEffect, useRef } from '../lib/ui.js';
import { t, fmt } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href } from '../lib/router.js';
import { useLoad, Load, ErrorBanner, Status } from '../lib/components.js';
import { yearName, activityTitles, stateTag, schoolPath, classPath } from '../lib/teaching.js';

// Withdraw takes a scheduled assignment back before its release, after
// asking once; the API refuses (409) once it has been released.
function Withdraw({ school, cls, a, onDone }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const yes = useRef(null);
  const ask = useRef(null);
  const asked = useRef(false);
  // Focus follows the question: to "Yes" when it opens, back to
  // "Withdraw" when it is dismissed.
  useEffect(() => {
    if (asking && yes.current) yes.current.focus();
    if (!asking && asked.current && ask.current) ask.current.focus();
    asked.current = asked.current || asking;
  }, [asking]);
  const title = activityTitles(a);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.del(`${classPath(school, cls.id)}/assignments/${encodeURIComponent(a.id)}`);
      onDone(t('classes.withdrawn', { title }));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  if (!asking) {
    return html`<button type="button" class="link-button" ref=${ask} aria-label=${t('classes.withdrawOf', { title })}
      onClick=${() => setAsking(true)}>${t('classes.withdraw')}</button>`;
  }
  return html`<div class="confirm" role="group" aria-label=${t('classes.withdrawOf', { title })}>
    <p>${t('classes.withdrawAsk', { title })}</p>
    <${ErrorBanner} error=${error} />
    <div class="actions">
      <button type="button" class="danger primary" ref=${yes} disabled=${busy} onClick=${go}>${t('classes.withdrawYes')}</button>
      <button type="button" onClick=${() => { setAsking(false); setError(null); }}>${t('classes.withdrawNo')}</button>
    </div>
  </div>`;
}

function Assignments({ school, cls }) {
  const state = useLoad(() => api.get(`${classPath(school, cls.id)}/assignments`), [school.id, cls.id]);
  const [done, setDone] = useState('');
  const withdrawn = (msg) => { setDone(msg); state.reload(); };
  return html`<${Load} state=${state}>${(d) => {
    const items = d.items || [];
    return html`
      ${done && html`<${Status}>${done}</${Status}>`}
      ${items.length === 0 ? html`<p>${t('classes.noAssignments')}</p>` : html`<ul class="assignments" aria-label=${t('classes.assignmentsOf', { name: cls.name })}>
      ${items.map((a) => html`<li key=${a.id}>
        <a class="assignment-title" href=${href(`/s/${encodeURIComponent(school.id)}/assignments/${encodeURIComponent(a.id)}?class=${encodeURIComponent(cls.id)}`)}>
          ${activityTitles(a)}</a>
        <p class="meta">
          <span class=${stateTag(a.state)}>${t(`assignment.state.${a.state}`)}</span>
          <span>${a.state === 'released' ? t('classes.released', { when: fmt.dateTime(a.released_at || a.release_at) })
            : t('classes.releases', { when: fmt.dateTime(a.release_at) })}</span>
          <span>${t('classes.due', { when: fmt.dateTime(a.due_at) })}</span>
          <span>${a.whole_class ? t('classes.wholeClass') : t('classes.someChildren', { count: a.child_ids.length })}</span>
        </p>
        ${a.state === 'scheduled' && html`<${Withdraw} school=${school} cls=${cls} a=${a} onDone=${withdrawn} />`}
      </li>`)}
    </ul>`}`;
  }}</${Load}>`;
}

export default function Screen({ school }) {
  const classes = useLoad(() => api.get(`${schoolPath(school)}/classes`), [school.id]);
  const base = `/s/${encodeURIComponent(school.id)}`;
  return html`<section>
    <div class="panel">
      <h1>${t('classes.title')}</h1>
      <p>${t('classes.intro')}</p>
    </div>
    <${Load} state=${classes}>${(d) => (d.items.length === 0
      ? html`<div class="panel"><p>${t('classes.none')}</p></div>`
      : d.items.map((c) => html`<section class="panel class-card" aria-labelledby=${`cls-${c.id}`}>
          <h2 id=${`cls-${c.id}`}>${c.name}</h2>
          <p class="class-meta">${yearName(c.year_group)}</p>
          <div class="actions">
            <a class="button primary" href=${href(`${base}/classes/${encodeURIComponent(c.id)}/assign`)}
              aria-label=${t('classes.setFor', { name: c.name })}>${t('classes.set')}</a>
            <a class="button" href=${href(`${base}/engagement?class=${encodeURIComponent(c.id)}`)}
              aria-label=${t('classes.engagementOf', { name: c.name })}>${t('classes.engagement')}</a>
          </div>
          <h3>${t('classes.setSoFar')}</h3>
          <${Assignments} school=${school} cls=${c} />
        </section>`))}</${Load}>
  </section>`;
}
