// Small helpers the teacher and engagement screens share: names for year
// groups, subjects and kinds, assignment wording, ISO weeks, the
// date-time inputs (in the school's time zone), and Idempotency-Key values.
import { t, formatDate, timeZone, zonedParts } from './i18n.js';

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

// weekLabel: "Week of 2 Nov" / "Wythnos 2 Tachwedd" (the week's Monday, a
// UTC date).
export function weekLabel(week) {
  const d = weekMonday(week);
  if (!d) return week;
  return t('engagement.weekOf', { date: formatDate(d, { year: false, timeZone: 'UTC' }) });
}

// localInput formats a Date for an <input type="datetime-local"> as the
// wall-clock time at the school (the time zone the shell set);
// fromLocalInput reads one back as an ISO instant.
export function localInput(d) {
  const p = zonedParts(d, timeZone());
  const two = (n) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`;
}

export function fromLocalInput(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v || '');
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // The zone's offset at the moment, found from the wall-clock and
  // checked once more (a daylight-saving change can move it).
  const offset = (ms) => {
    const p = zonedParts(new Date(ms), timeZone());
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
  };
  let at = wall - offset(wall);
  const again = offset(at);
  if (wall - again !== at) at = wall - again;
  return new Date(at).toISOString();
}

// stateTag is the class of the tag showing an assignment's state.
export const stateTag = (s) => (s === 'released' ? 'tag ok' : s === 'withdrawn' ? 'tag bad' : 'tag warn');
