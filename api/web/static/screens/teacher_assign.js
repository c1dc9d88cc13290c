// Set activities for a class: choose from the library (built-in and the
// school's own), filtered by year group, subject and kind, or write the
// school's own; choose who (the whole class or some children), when
// families see it and when it is due.
import { html, useState, useRef } from '../lib/ui.js';
import { t, fmt } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href } from '../lib/router.js';
import { useLoad, Load, Field, ErrorBanner, Status, fieldErrors } from '../lib/components.js';
import {
  YEAR_GROUPS, SUBJECTS, KINDS, yearName, subjectName, kindName, schoolPath, classPath,
  localInput, fromLocalInput, childName, activityTitles,
} from '../lib/teaching.js';

const MAX_ACTIVITIES = 10;

function libraryQuery(f, cursor) {
  const q = new URLSearchParams({ limit: '20' });
  if (f.year) q.set('year_group', f.year);
  if (f.subject) q.set('subject', f.subject);
  if (f.kind) q.set('kind', f.kind);
  if (cursor) q.set('cursor', cursor);
  return `/v1/activities?${q}`;
}

function Library({ filters, chosen, toggle, extra }) {
  const [pages, setPages] = useState([]);
  const [moreError, setMoreError] = useState(null);
  const first = useLoad(async () => {
    setPages([]);
    return api.get(libraryQuery(filters));
  }, [filters.year, filters.subject, filters.kind]);
  const last = pages.length ? pages[pages.length - 1] : first.data;
  const more = async () => {
    setMoreError(null);
    try {
      const p = await api.get(libraryQuery(filters, last.next_cursor));
      setPages([...pages, p]);
    } catch (e) {
      setMoreError(e);
    }
  };
  return html`<${Load} state=${first}>${(d) => {
    const seen = new Set();
    const items = [...extra, ...d.items, ...pages.flatMap((p) => p.items)].filter((a) => !seen.has(a.id) && seen.add(a.id));
    if (!items.length) return html`<p role="status">${t('assign.noneFound')}</p>`;
    return html`
      <p role="status" class="visually-hidden">${t('assign.found', { count: items.length })}</p>
      <ul class="library">
        ${items.map((a) => {
          const on = chosen.some((c) => c.id === a.id);
          const id = `act-${a.id}`;
          return html`<li class=${on ? 'chosen' : ''}>
            <label for=${id}>
              <input type="checkbox" id=${id} checked=${on} aria-describedby=${`${id}-d`}
                disabled=${!on && chosen.length >= MAX_ACTIVITIES} onChange=${() => toggle(a)} />
              <span>${a.title}</span>
            </label>
            <div id=${`${id}-d`}>
              <p class="summary">${a.summary}</p>
              <p class="meta">
                <span>${subjectName(a.subject)}</span>
                <span>${kindName(a.kind)}</span>
                <span>${t('assign.minutes', { count: a.minutes })}</span>
                <span>${a.year_groups.map(yearName).join(', ')}</span>
                ${!a.built_in && html`<span>${t('assign.ownTag')}</span>`}
              </p>
            </div>
          </li>`;
        })}
      </ul>
      <${ErrorBanner} error=${moreError} />
      ${last && last.next_cursor && html`<button type="button" onClick=${more}>${t('assign.more')}</button>`}`;
  }}</${Load}>`;
}

// OwnActivity writes one of the school's own activities; once saved it is
// chosen for this assignment.
function OwnActivity({ school, yearGroup, onCreated }) {
  const blank = { title: '', subject: 'reading', kind: 'activity', minutes: '15', summary: '', steps: '', materials: '', years: [yearGroup] };
  const [f, setF] = useState(blank);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState('');
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const lines = (s) => s.split('\n').map((x) => x.trim()).filter(Boolean);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved('');
    try {
      const a = await api.post(`${schoolPath(school)}/activities`, {
        title: f.title.trim(), subject: f.subject, kind: f.kind, minutes: Number(f.minutes) || 0,
        year_groups: f.years, summary: f.summary.trim(), steps: lines(f.steps), materials: lines(f.materials),
      });
      onCreated(a);
      setSaved(t('assign.own.saved', { title: a.title }));
      setF(blank);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fe = fieldErrors(error);
  const toggleYear = (y) => setF({ ...f, years: f.years.includes(y) ? f.years.filter((x) => x !== y) : [...f.years, y] });
  return html`<details class="own">
    <summary>${t('assign.own.open')}</summary>
    <p>${t('assign.own.intro')}</p>
    <${ErrorBanner} error=${error} />
    ${saved && html`<${Status}>${saved}</${Status}>`}
    <form onSubmit=${submit} novalidate>
      <${Field} label=${t('assign.own.title')} value=${f.title} onInput=${set('title')} maxlength="80" required error=${fe.title} />
      <div class="filters">
        <${Field} as="select" label=${t('assign.subject')} value=${f.subject} onChange=${set('subject')} error=${fe.subject}>
          ${SUBJECTS.map((s) => html`<option value=${s}>${subjectName(s)}</option>`)}
        </${Field}>
        <${Field} as="select" label=${t('assign.kind')} value=${f.kind} onChange=${set('kind')} error=${fe.kind}>
          ${KINDS.map((k) => html`<option value=${k}>${kindName(k)}</option>`)}
        </${Field}>
        <${Field} label=${t('assign.own.minutes')} type="number" min="1" max="120" inputmode="numeric"
          value=${f.minutes} onInput=${set('minutes')} error=${fe.minutes} />
      </div>
      <fieldset>
        <legend>${t('assign.own.years')}</legend>
        ${YEAR_GROUPS.map((y) => html`<div class="check">
          <input type="checkbox" id=${`own-y-${y}`} checked=${f.years.includes(y)} onChange=${() => toggleYear(y)} />
          <label for=${`own-y-${y}`}>${yearName(y)}</label></div>`)}
        ${fe.year_groups && html`<p class="field-error">${fe.year_groups}</p>`}
      </fieldset>
      <${Field} as="textarea" label=${t('assign.own.summary')} hint=${t('assign.own.summaryHint')} value=${f.summary}
        onInput=${set('summary')} maxlength="600" error=${fe.summary} />
      <${Field} as="textarea" label=${t('assign.own.steps')} hint=${t('assign.own.linesHint')} value=${f.steps}
        onInput=${set('steps')} error=${fe.steps} />
      <${Field} as="textarea" label=${t('assign.own.materials')} hint=${t('assign.own.linesHint')} value=${f.materials}
        onInput=${set('materials')} error=${fe.materials} />
      <button type="submit" disabled=${busy}>${t('assign.own.save')}</button>
    </form>
  </details>`;
}

function Form({ school, cls, children }) {
  const [filters, setFilters] = useState({ year: cls.year_group, subject: '', kind: '' });
  const [chosen, setChosen] = useState([]);
  const [extra, setExtra] = useState([]);
  const [when, setWhen] = useState('now');
  // Due in a week at 17:00 at the school.
  const inAWeek = localInput(new Date(Date.now() + 7 * 24 * 3600 * 1000)).slice(0, 10) + 'T17:00';
  const [releaseAt, setReleaseAt] = useState(localInput(new Date(Date.now() + 3600 * 1000)));
  const [dueAt, setDueAt] = useState(inAWeek);
  const [who, setWho] = useState('class');
  const [picked, setPicked] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(null);
  const doneRef = useRef(null);

  const toggle = (a) => setChosen(chosen.some((c) => c.id === a.id) ? chosen.filter((c) => c.id !== a.id) : [...chosen, a]);
  const setFilter = (k) => (e) => setFilters({ ...filters, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    const body = { activity_ids: chosen.map((a) => a.id), due_at: fromLocalInput(dueAt) };
    if (when === 'later') body.release_at = fromLocalInput(releaseAt);
    if (who === 'some') body.child_ids = picked;
    try {
      const a = await api.post(`${classPath(school, cls.id)}/assignments`, body);
      setDone({ ...a, now: when === 'now' });
      setChosen([]);
      setTimeout(() => doneRef.current && doneRef.current.focus(), 0);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fe = fieldErrors(error);
  const base = `/s/${encodeURIComponent(school.id)}`;
  return html`
    ${done && html`<div class="banner ok" role="status" tabindex="-1" ref=${doneRef}>
      <p>${done.now ? t('assign.doneNow', { title: activityTitles(done) })
        : t('assign.doneLater', { title: activityTitles(done), when: fmt.dateTime(done.release_at) })}</p>
      <p><a href=${href(`${base}/assignments/${encodeURIComponent(done.id)}?class=${encodeURIComponent(cls.id)}`)}>${t('assign.seeSubmissions')}</a>
        ${' · '}<a href=${href(`${base}/classes`)}>${t('assign.backToClasses')}</a></p>
    </div>`}
    <form onSubmit=${submit} novalidate aria-labelledby="assign-title">
      <fieldset>
        <legend>${t('assign.step.choose')}</legend>
        <div class="filters" role="group" aria-label=${t('assign.filters')}>
          <${Field} as="select" label=${t('assign.yearGroup')} value=${filters.year} onChange=${setFilter('year')}>
            <option value="">${t('assign.any')}</option>
            ${YEAR_GROUPS.map((y) => html`<option value=${y}>${yearName(y)}</option>`)}
          </${Field}>
          <${Field} as="select" label=${t('assign.subject')} value=${filters.subject} onChange=${setFilter('subject')}>
            <option value="">${t('assign.any')}</option>
            ${SUBJECTS.map((s) => html`<option value=${s}>${subjectName(s)}</option>`)}
          </${Field}>
          <${Field} as="select" label=${t('assign.kind')} value=${filters.kind} onChange=${setFilter('kind')}>
            <option value="">${t('assign.any')}</option>
            ${KINDS.map((k) => html`<option value=${k}>${kindName(k)}</option>`)}
          </${Field}>
        </div>
        <p class="chosen-count" aria-live="polite">${t('assign.chosen', { count: chosen.length, max: MAX_ACTIVITIES })}
          ${chosen.length > 0 && html`: ${chosen.map((a) => a.title).join(', ')}`}</p>
        ${fe.activity_ids && html`<p class="field-error">${fe.activity_ids}</p>`}
        <${Library} filters=${filters} chosen=${chosen} toggle=${toggle} extra=${extra} />
      </fieldset>

      <${OwnActivity} school=${school} yearGroup=${cls.year_group}
        onCreated=${(a) => { setExtra([a, ...extra]); if (chosen.length < MAX_ACTIVITIES) setChosen([...chosen, a]); }} />

      <fieldset>
        <legend>${t('assign.step.who')}</legend>
        <div class="check"><input type="radio" id="who-class" name="who" checked=${who === 'class'} onChange=${() => setWho('class')} />
          <label for="who-class">${t('assign.who.class', { count: children.length })}</label></div>
        <div class="check"><input type="radio" id="who-some" name="who" checked=${who === 'some'} onChange=${() => setWho('some')} />
          <label for="who-some">${t('assign.who.some')}</label></div>
        ${who === 'some' && html`<fieldset class="children-pick">
          <legend>${t('assign.who.pick')}</legend>
          ${children.map((k) => html`<div class="check">
            <input type="checkbox" id=${`k-${k.id}`} checked=${picked.includes(k.id)}
              onChange=${() => setPicked(picked.includes(k.id) ? picked.filter((x) => x !== k.id) : [...picked, k.id])} />
            <label for=${`k-${k.id}`}>${childName(k)}</label></div>`)}
        </fieldset>`}
        ${fe.child_ids && html`<p class="field-error">${fe.child_ids}</p>`}
      </fieldset>

      <fieldset>
        <legend>${t('assign.step.when')}</legend>
        <div class="check"><input type="radio" id="when-now" name="when" checked=${when === 'now'} onChange=${() => setWhen('now')} />
          <label for="when-now">${t('assign.when.now')}</label></div>
        <div class="check"><input type="radio" id="when-later" name="when" checked=${when === 'later'} onChange=${() => setWhen('later')} />
          <label for="when-later">${t('assign.when.later')}</label></div>
        <div class="when-grid">
          ${when === 'later' && html`<${Field} label=${t('assign.releaseAt')} type="datetime-local" value=${releaseAt}
            onInput=${(e) => setReleaseAt(e.target.value)} error=${fe.release_at} />`}
          <${Field} label=${t('assign.dueAt')} hint=${t('assign.dueHint')} type="datetime-local" value=${dueAt}
            onInput=${(e) => setDueAt(e.target.value)} required error=${fe.due_at} />
        </div>
      </fieldset>
      <${ErrorBanner} error=${error} />
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>
          ${when === 'now' ? t('assign.submitNow') : t('assign.submitLater')}</button>
        <a href=${href(`${base}/classes`)}>${t('common.cancel')}</a>
      </div>
    </form>`;
}

export default function Screen({ school, params }) {
  const state = useLoad(async () => {
    const [cls, kids] = await Promise.all([
      api.get(classPath(school, params.classId)),
      api.get(`${classPath(school, params.classId)}/children`),
    ]);
    return { cls, children: kids.items || [] };
  }, [school.id, params.classId]);
  return html`<section class="panel">
    <${Load} state=${state}>${({ cls, children }) => html`
      <h1 id="assign-title">${t('assign.title', { name: cls.name })}</h1>
      <p>${t('assign.intro', { year: yearName(cls.year_group) })}</p>
      <${Form} school=${school} cls=${cls} children=${children} />`}</${Load}>
  </section>`;
}
