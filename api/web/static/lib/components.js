// Small pieces every screen uses: loading data, showing errors, labelled
// fields and scrollable tables.
import { html, useState, useEffect, useCallback, useRef } from './ui.js';
import { t } from './i18n.js';

// useSubmit turns action (an async function resolving to a status line)
// into a form's onSubmit: busy while it runs, then its status or the error
// it threw.
export function useSubmit(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setStatus('');
    try {
      setStatus(await action());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { submit, busy, error, status };
}

// useLoad runs fn (an async function) now and whenever deps change;
// reload() runs it again. Errors are kept, not thrown.
export function useLoad(fn, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const seq = useRef(0);
  const run = useCallback(async () => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const data = await fn();
      if (n === seq.current) setState({ loading: false, data, error: null });
    } catch (error) {
      if (n === seq.current) setState({ loading: false, data: null, error });
    }
  }, deps);
  useEffect(() => { run(); }, [run]);
  return { ...state, reload: run };
}

// errorText turns an ApiError into a sentence in the interface language.
export function errorText(err) {
  if (!err) return '';
  const key = `error.${err.code}`;
  const s = t(key);
  if (s !== key) return s;
  return err.message || t('error.internal');
}

export function ErrorBanner({ error }) {
  if (!error) return null;
  return html`<div class="banner error" role="alert">${errorText(error)}</div>`;
}

export function Loading() {
  return html`<p class="loading" role="status">${t('common.loading')}</p>`;
}

// Load renders a useLoad result: loading, the error, or children(data).
export function Load({ state, children }) {
  if (state.error) return html`<${ErrorBanner} error=${state.error} />`;
  if (state.loading && !state.data) return html`<${Loading} />`;
  return children(state.data);
}

let fieldSeq = 0;
// Field is a labelled input with its hint and error tied to it by
// aria-describedby. Extra props go to the input.
export function Field({ label, hint, error, type = 'text', as = 'input', children, ...rest }) {
  const id = useRef(rest.id || `f${++fieldSeq}`).current;
  const described = [hint && `${id}-hint`, error && `${id}-err`].filter(Boolean).join(' ') || undefined;
  const control = as === 'select'
    ? html`<select id=${id} aria-describedby=${described} aria-invalid=${error ? 'true' : undefined} ...${rest}>${children}</select>`
    : as === 'textarea'
      ? html`<textarea id=${id} aria-describedby=${described} aria-invalid=${error ? 'true' : undefined} ...${rest}></textarea>`
      : html`<input id=${id} type=${type} aria-describedby=${described} aria-invalid=${error ? 'true' : undefined} ...${rest} />`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${control}
    ${error && html`<p class="field-error" id=${`${id}-err`}>${error}</p>`}
  </div>`;
}

// TableWrap lets a wide table scroll sideways on a phone; the region is
// focusable so a keyboard can scroll it too.
export function TableWrap({ label, children }) {
  return html`<div class="table-wrap" role="region" aria-label=${label} tabindex="0">${children}</div>`;
}

// The API's field messages (English, one per kind of problem) that have
// interface text, as [message or pattern, i18n key, names of the pattern's
// numbers]. A message not listed is shown as the API wrote it.
const FIELD_MESSAGES = [
  ['required', 'field.required'],
  ['must be an email address', 'field.email'],
  ['must be a phone number in international form', 'field.phoneIntl'],
  ['must be a valid phone number', 'field.phone'],
  ['must be a valid mobile number', 'field.mobile'],
  ['too long', 'field.tooLong'],
  [/^(?:must be )?at most (\d+) characters$/, 'field.maxChars', ['n']],
  [/^must be at least (\d+) characters$/, 'field.minChars', ['n']],
  [/^must be (\d+) to (\d+) characters$/, 'field.length', ['min', 'max']],
  [/^must be (?:between )?(\d+) (?:to|and) (\d+)$/, 'field.between', ['min', 'max']],
  ['must be HH:MM (24-hour)', 'field.hhmm'],
  ['must be after the release time', 'field.afterRelease'],
  ['must not be in the past (leave it out to release now)', 'field.past'],
  ['at most a year ahead', 'field.yearAhead'],
  ['give at least one activity', 'field.oneActivity'],
  ['give at least one of teacher, admin', 'field.oneRole'],
  ['give at least one year group', 'field.oneYear'],
  ['give at least one step', 'field.oneStep'],
  ['give a reason for unlinking this parent', 'field.unlinkReason'],
  ['invalid, used or expired', 'field.code'],
  ['must be an IANA time zone such as Europe/London', 'field.timeZone'],
  ['give an email or a phone number, not both', 'field.emailOrPhone'],
  ['give a mobile number or an email so the family can be invited', 'field.contact'],
];

// fieldText is an API field message in the interface language.
export function fieldText(msg) {
  for (const [pattern, key, names] of FIELD_MESSAGES) {
    if (typeof pattern === 'string') {
      if (msg === pattern) return t(key);
      continue;
    }
    const m = pattern.exec(msg);
    if (m) return t(key, Object.fromEntries(names.map((n, i) => [n, Number(m[i + 1])])));
  }
  return msg;
}

// fieldErrors picks an ApiError's per-field messages, in the interface
// language where the message is known.
export function fieldErrors(err) {
  const fields = (err && err.fields) || {};
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? fieldText(v) : v]));
}

// Status shows a polite live message (saved, sent…).
export function Status({ children }) {
  return html`<p class="status" role="status">${children}</p>`;
}
