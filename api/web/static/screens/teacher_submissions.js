// What families sent back for one assignment: done or not, their rating,
// comment and photos (through the short-lived signed URLs the API gives),
// the thread with the teacher's replies; reply, and give the child an award.
import { html, useState, useEffect, useRef } from '../lib/ui.js';
import { t, fmt } from '../lib/i18n.js';
import { api } from '../lib/api.js';
import { href } from '../lib/router.js';
import { useLoad, Load, Field, ErrorBanner, Status, fieldErrors, useSubmit } from '../lib/components.js';
import { schoolPath, classPath, activityTitles, childName, idempotencyKey, stateTag } from '../lib/teaching.js';

// findAssignment reads the assignment and its class. The class comes from
// the address (?class=…) when the classes screen linked here; otherwise
// the caller's classes are searched.
async function findAssignment(school, assignmentId, classId) {
  const classes = classId ? [{ id: classId }] : (await api.get(`${schoolPath(school)}/classes`)).items;
  for (const c of classes) {
    const list = await api.get(`${classPath(school, c.id)}/assignments`);
    const a = (list.items || []).find((x) => x.id === assignmentId);
    if (a) return a;
  }
  return null;
}

function Photo({ id, alt, open }) {
  const [url, setUrl] = useState(null);
  const [failed, setFailed] = useState(false);
  const load = async () => {
    try {
      const u = await api.get(`/v1/photos/${encodeURIComponent(id)}?variant=thumb`);
      setUrl(u.url);
    } catch {
      setFailed(true);
    }
  };
  useEffect(() => { load(); }, [id]);
  if (failed) return html`<span class="photo-missing">${t('subs.photoMissing')}</span>`;
  if (!url) return html`<span class="photo-missing">${t('common.loading')}</span>`;
  return html`<button type="button" class="photo-button" onClick=${(e) => open(id, alt, e.currentTarget)}>
    <img src=${url} alt=${alt} width="128" height="128" onError=${() => { setUrl(null); load(); }} />
    <span class="visually-hidden">${t('subs.photoOpen')}</span>
  </button>`;
}

function PhotoDialog({ photo, close }) {
  const ref = useRef(null);
  const [url, setUrl] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!photo) return;
    setUrl(null);
    setError(null);
    if (ref.current && !ref.current.open) ref.current.showModal();
    api.get(`/v1/photos/${encodeURIComponent(photo.id)}?variant=full`).then((u) => setUrl(u.url), setError);
  }, [photo && photo.id]);
  const shut = () => {
    if (ref.current && ref.current.open) ref.current.close();
  };
  return html`<dialog class="photo-dialog" ref=${ref} aria-labelledby="photo-dialog-title" onClose=${close}>
    <h2 id="photo-dialog-title">${photo ? photo.alt : ''}</h2>
    <${ErrorBanner} error=${error} />
    ${url ? html`<img src=${url} alt=${photo ? photo.alt : ''} />` : !error && html`<p>${t('common.loading')}</p>`}
    <div class="actions"><button type="button" class="primary" onClick=${shut}>${t('common.close')}</button></div>
  </dialog>`;
}

function Reply({ school, assignmentId, sub, name, onSaved }) {
  const [body, setBody] = useState('');
  const key = useRef(idempotencyKey());
  const { submit, busy, error, status: sent } = useSubmit(async () => {
    const updated = await api.post(
      `${schoolPath(school)}/assignments/${encodeURIComponent(assignmentId)}/submissions/${encodeURIComponent(sub.id)}/replies`,
      { body: body.trim() }, { headers: { 'Idempotency-Key': key.current } });
    key.current = idempotencyKey();
    setBody('');
    onSaved(updated);
    return t('subs.replySent');
  });
  return html`<form onSubmit=${submit} novalidate>
    <${ErrorBanner} error=${error} />
    <${Field} as="textarea" label=${t('subs.replyLabel', { name })} hint=${t('subs.replyHint')} value=${body}
      onInput=${(e) => setBody(e.target.value)} maxlength="1000" required error=${fieldErrors(error).body} />
    <button type="submit" class="primary" disabled=${busy}>${t('subs.replySend')}</button>
    ${sent && html`<${Status}>${sent}</${Status}>`}
  </form>`;
}

function Award({ school, child, name }) {
  const [reason, setReason] = useState('');
  const key = useRef(idempotencyKey());
  const { submit, busy, error, status: given } = useSubmit(async () => {
    const a = await api.post(`${schoolPath(school)}/children/${encodeURIComponent(child)}/awards`,
      { reason: reason.trim() }, { headers: { 'Idempotency-Key': key.current } });
    key.current = idempotencyKey();
    setReason('');
    return t('subs.awardGiven', { name, reason: a.reason });
  });
  return html`<form onSubmit=${submit} novalidate>
    <${ErrorBanner} error=${error} />
    <${Field} label=${t('subs.awardLabel', { name })} hint=${t('subs.awardHint')} value=${reason}
      onInput=${(e) => setReason(e.target.value)} maxlength="200" required error=${fieldErrors(error).reason} />
    <button type="submit" disabled=${busy}>${t('subs.awardGive')}</button>
    ${given && html`<${Status}>${given}</${Status}>`}
  </form>`;
}

function Submission({ school, assignmentId, sub: initial, child, openPhoto }) {
  const [sub, setSub] = useState(initial);
  const name = child ? child.first_name : t('teacher.unknownChild');
  const from = child && (child.parents || []).find((p) => p.parent_id === sub.parent_id);
  const headingId = `sub-${sub.id}`;
  return html`<article class="submission" aria-labelledby=${headingId}>
    <h2 id=${headingId}>${childName(child)}</h2>
    <p class="meta">
      <span class=${sub.done ? 'tag ok' : 'tag'}>${sub.done ? t('subs.done') : t('subs.notDone')}</span>
      ${from && from.relationship && html`<span>${t('subs.sentBy', { who: from.relationship })}</span>`}
      <span>${t('subs.updated', { when: fmt.dateTime(sub.updated_at) })}</span>
    </p>
    ${sub.rating
      ? html`<p><span class="stars" aria-hidden="true">${'★'.repeat(sub.rating)}${'☆'.repeat(5 - sub.rating)}</span>
          ${' '}${t('subs.rating', { rating: sub.rating })}</p>`
      : html`<p class="meta">${t('subs.noRating')}</p>`}
    ${sub.comment && html`<blockquote>${sub.comment}</blockquote>`}
    ${sub.photo_ids.length > 0 && html`<ul class="photos" aria-label=${t('subs.photos', { count: sub.photo_ids.length })}>
      ${sub.photo_ids.map((p, i) => html`<li><${Photo} id=${p} open=${openPhoto}
        alt=${t('subs.photoAlt', { n: i + 1, name })} /></li>`)}
    </ul>`}
    ${sub.replies.length > 0 && html`<h3>${t('subs.thread')}</h3>
      <ol class="thread">
        ${sub.replies.map((r) => html`<li class=${r.author}>
          <span class="who-said">${r.author === 'teacher' ? r.author_name || t('subs.teacher') : t('subs.family')}</span>
          ${' · '}<span class="meta">${fmt.dateTime(r.at)}</span>
          <br />${r.body}
        </li>`)}
      </ol>`}
    <div class="respond">
      <${Reply} school=${school} assignmentId=${assignmentId} sub=${sub} name=${name} onSaved=${setSub} />
      <${Award} school=${school} child=${sub.child_id} name=${name} />
    </div>
  </article>`;
}

export default function Screen({ school, params, query }) {
  const classId = query && query.get('class');
  const [photo, setPhoto] = useState(null);
  const opener = useRef(null);
  const state = useLoad(async () => {
    const a = await findAssignment(school, params.assignmentId, classId);
    if (!a) {
      const e = new Error('not found');
      e.code = 'not_found';
      throw e;
    }
    const [subs, kids] = await Promise.all([
      api.get(`${schoolPath(school)}/assignments/${encodeURIComponent(a.id)}/submissions`),
      api.get(`${classPath(school, a.class_id)}/children`),
    ]);
    return { a, subs: subs.items || [], children: kids.items || [] };
  }, [school.id, params.assignmentId, classId]);
  const openPhoto = (id, alt, el) => { opener.current = el; setPhoto({ id, alt }); };
  const closePhoto = () => {
    setPhoto(null);
    // Browsers that give focus back to the opener on their own have done so
    // by now; the others leave it on the page's body.
    const a = document.activeElement;
    if (opener.current && (!a || a === document.body)) opener.current.focus();
  };
  return html`<section>
    <${Load} state=${state}>${({ a, subs, children }) => {
      const byId = new Map(children.map((k) => [k.id, k]));
      const targets = a.whole_class ? children : children.filter((k) => a.child_ids.includes(k.id));
      const sent = new Set(subs.map((s) => s.child_id));
      const waiting = targets.filter((k) => !sent.has(k.id));
      const done = new Set(subs.filter((s) => s.done).map((s) => s.child_id));
      return html`
        <div class="panel">
          <p><a href=${href(`/s/${encodeURIComponent(school.id)}/classes`)}>${t('subs.back')}</a></p>
          <h1>${t('subs.title', { title: activityTitles(a) })}</h1>
          <p class="meta">
            <span class=${stateTag(a.state)}>${t(`assignment.state.${a.state}`)}</span>
            <span>${a.state === 'released' ? t('classes.released', { when: fmt.dateTime(a.released_at || a.release_at) })
              : t('classes.releases', { when: fmt.dateTime(a.release_at) })}</span>
            <span>${t('classes.due', { when: fmt.dateTime(a.due_at) })}</span>
          </p>
          <dl class="stats">
            <div><dt>${t('subs.statSent')}</dt><dd>${t('subs.ofN', { n: sent.size, total: targets.length })}</dd></div>
            <div><dt>${t('subs.statDone')}</dt><dd>${t('subs.ofN', { n: done.size, total: targets.length })}</dd></div>
            <div><dt>${t('subs.statPhotos')}</dt><dd>${fmt.number(subs.reduce((n, s) => n + s.photo_ids.length, 0))}</dd></div>
          </dl>
        </div>
        ${subs.length === 0
          ? html`<div class="panel"><p>${a.state === 'scheduled' ? t('subs.notYetReleased') : t('subs.none')}</p></div>`
          : subs.map((s) => html`<${Submission} key=${s.id} school=${school} assignmentId=${a.id} sub=${s}
              child=${byId.get(s.child_id)} openPhoto=${openPhoto} />`)}
        ${waiting.length > 0 && html`<div class="panel">
          <h2>${t('subs.waiting', { count: waiting.length })}</h2>
          <p class="not-sent">${waiting.map(childName).join(', ')}</p>
        </div>`}`;
    }}</${Load}>
    <${PhotoDialog} photo=${photo} close=${closePhoto} />
  </section>`;
}
