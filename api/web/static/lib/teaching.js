// Small helpers the teacher and engagement screens share: names for year
// groups, subjects and kinds, assignment wording, ISO weeks, the local
// date-time inputs, and Idempotency-Key values.
import { t, locale, language } from './i18n.js';

export const YEAR_GROUPS = ['N', 'R', 'Y1', 'Y2', 'Y3', 'Y4', 'Y5', 'Y6'];
export const SUBJECTS = ['reading', 'phonics', 'maths', 'science', 'talk', 'wellbeing'];
export const KINDS = ['activity', 'game', 'video'];

export const yearName = (y) => t(`year.${y}`);
export const subjectName = (s) => t(`subject.${s}`);
export const kindName = (k) => t(`kind.${k}`);

export const schoolPath = (school) => `/v1/schools/${encodeURIComponent(school.id)}`;
export const classPath = (school, classId) => `${schoolPath(school)}/classes/${encodeURIComponent(classId)}`;

// activityTitles joins an assignment's activities' titles.
export const activityTitles = (a) => (a.activities || []).map((x) => x.title).join(', ');

export const childName = (k) => (k ? `${k.first_name} ${k.last_name}` : t('teacher.unknownChild'));

// idempotencyKey names one user action, so a retried request (a double
// click, a flaky network) is done once by the API.
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// weekMonday is the Monday (UTC) of an ISO week "2026-W45".
export function weekMonday(week) {
  const m = /^(\d{4})-W(\d{2})$/.exec(week || '');
  if (!m) return null;
  const year = Number(m[1]);
  const w = Number(m[2]);
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const dow = jan4.getUTCDay() || 7;
  const monday = new Date(jan4);
  monday.setUTCDate(jan4.getUTCDate() - (dow - 1) + (w - 1) * 7);
  return monday;
}

// weekLabel: "Week of 2 Nov" in the interface language.
export function weekLabel(week) {
  const d = weekMonday(week);
  if (!d) return week;
  return t('engagement.weekOf', { date: shortDate(d) });
}

// Browsers built without Welsh locale data (Debian's Chromium is one) format
// cy-GB dates in the root locale ("Oct 12"); Welsh dates are then spelt
// out here.
const CY_MONTHS = ['Ion', 'Chwef', 'Maw', 'Ebr', 'Mai', 'Meh', 'Gorff', 'Awst', 'Medi', 'Hyd', 'Tach', 'Rhag'];
let cyKnown = null;
function ownWelsh() {
  if (language() !== 'cy') return false;
  if (cyKnown === null) cyKnown = Intl.DateTimeFormat.supportedLocalesOf(['cy']).length > 0;
  return !cyKnown;
}

// shortDate: "2 Nov" / "2 Tach" (a UTC date).
export function shortDate(d) {
  if (ownWelsh()) return `${d.getUTCDate()} ${CY_MONTHS[d.getUTCMonth()]}`;
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(d);
}

// dateTime: "6 Dec 2026, 09:53" in the browser's time zone.
export function dateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (ownWelsh()) {
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getDate()} ${CY_MONTHS[d.getMonth()]} ${d.getFullYear()}, ${p(d.getHours())}:${p(d.getMinutes())}`;
  }
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

// localInput formats a Date for an <input type="datetime-local"> in the
// browser's time zone; fromLocalInput reads one back as an ISO instant.
export function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fromLocalInput(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// stateTag is the class of the tag showing an assignment's state.
export const stateTag = (s) => (s === 'released' ? 'tag ok' : s === 'withdrawn' ? 'tag bad' : 'tag warn');
