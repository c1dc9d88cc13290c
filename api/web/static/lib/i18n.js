// Interface text in English and Welsh. Each area's words are one file per
// language (i18n/en/<area>.js, i18n/cy/<area>.js) default-exporting a flat
// object; AREAS lists them and all are merged. A missing Welsh key falls
// back to English, a missing English key shows the key itself.
//
//   t('funnel.title')                      → "Invite funnel"
//   t('import.rows', { count: 3 })         → "3 rows" (picks "import.rows.one",
//                                            ".two", ".few", ".many", ".zero"
//                                            or ".other" by the language's
//                                            plural rules)
//   t('hello', { name: 'Nia' })            → "{name}" replaced

export const AREAS = ['common', 'admin', 'teacher'];
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'cy', name: 'Cymraeg' },
];
const STORE_KEY = 'hometime.lang'; // the language choice only; never tokens

let lang = 'en';
let dict = {};
let fallback = {};
const listeners = new Set();

async function loadLang(code) {
  const files = await Promise.all(AREAS.map((a) => import(`../i18n/${code}/${a}.js`)));
  return Object.assign({}, ...files.map((m) => m.default));
}

function initialLang() {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (LANGUAGES.some((l) => l.code === saved)) return saved;
  } catch { /* storage refused */ }
  return (navigator.language || '').toLowerCase().startsWith('cy') ? 'cy' : 'en';
}

// init loads the saved (or the browser's) language before the first render.
export async function init() {
  await setLanguage(initialLang(), false);
}

export async function setLanguage(code, remember = true) {
  const [d, f] = await Promise.all([loadLang(code), code === 'en' ? null : loadLang('en')]);
  lang = code;
  dict = d;
  fallback = f || d;
  document.documentElement.lang = code;
  if (remember) {
    try { localStorage.setItem(STORE_KEY, code); } catch { /* storage refused */ }
  }
  listeners.forEach((fn) => fn(code));
}

export const language = () => lang;
export const locale = () => (lang === 'cy' ? 'cy-GB' : 'en-GB');

export function onLanguage(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function lookup(key) {
  if (key in dict) return dict[key];
  if (key in fallback) return fallback[key];
  return undefined;
}

export function t(key, params) {
  let s;
  if (params && typeof params.count === 'number') {
    const cat = new Intl.PluralRules(locale()).select(params.count);
    s = lookup(`${key}.${cat}`);
    if (s === undefined) s = lookup(`${key}.other`);
  }
  if (s === undefined) s = lookup(key);
  if (s === undefined) return key;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? fmtParam(params[k]) : m));
}

function fmtParam(v) {
  return typeof v === 'number' ? new Intl.NumberFormat(locale()).format(v) : String(v);
}

// Dates and times. Where a school is in context the shell sets its time
// zone (setTimeZone), so times read as they do at the school whatever the
// browser's zone; elsewhere the browser's zone is used. Welsh dates are
// spelt out here (month and day names in full) rather than left to Intl:
// browsers built without Welsh locale data (Debian's Chromium is one)
// format cy-GB dates in English ("Oct 12").
let zone;
export function setTimeZone(tz) { zone = tz || undefined; }
export const timeZone = () => zone;

export const CY_MONTHS = ['Ionawr', 'Chwefror', 'Mawrth', 'Ebrill', 'Mai', 'Mehefin', 'Gorffennaf', 'Awst', 'Medi', 'Hydref', 'Tachwedd', 'Rhagfyr'];
export const CY_DAYS = ['Dydd Sul', 'Dydd Llun', 'Dydd Mawrth', 'Dydd Mercher', 'Dydd Iau', 'Dydd Gwener', 'Dydd Sadwrn'];

// zonedParts is the wall-clock of a moment in a time zone (the browser's
// when tz is undefined): { year, month (1–12), day, hour, minute, second,
// weekday (0 = Sunday) }.
export function zonedParts(d, tz) {
  const p = {};
  for (const x of new Intl.DateTimeFormat('en-GB', {
    timeZone: tz, year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23',
  }).formatToParts(d)) p[x.type] = Number(x.value);
  p.weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  return p;
}

const two = (n) => String(n).padStart(2, '0');

// formatDate is the one date formatter of every screen. value: an ISO
// string or a Date; opts: time (add hh:mm), year (default true), weekday,
// timeZone (default the school's). "12 Oct 2026, 09:53" / "12 Hydref 2026,
// 09:53"; with weekday "Monday 12 October" / "Dydd Llun 12 Hydref".
export function formatDate(value, opts = {}) {
  if (!value) return '';
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  const tz = 'timeZone' in opts ? opts.timeZone : zone;
  const year = opts.year !== false;
  if (lang === 'cy') {
    const p = zonedParts(d, tz);
    let s = `${p.day} ${CY_MONTHS[p.month - 1]}`;
    if (opts.weekday) s = `${CY_DAYS[p.weekday]} ${s}`;
    if (year) s += ` ${p.year}`;
    if (opts.time) s += `, ${two(p.hour)}:${two(p.minute)}`;
    return s;
  }
  const o = { timeZone: tz, day: 'numeric', month: opts.weekday ? 'long' : 'short' };
  if (opts.weekday) o.weekday = 'long';
  if (year) o.year = 'numeric';
  if (opts.time) Object.assign(o, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return new Intl.DateTimeFormat(locale(), o).format(d).replace(/^(\w+),/, '$1');
}

// Formatting in the interface language.
export const fmt = {
  number: (n) => new Intl.NumberFormat(locale()).format(n),
  percent: (x) => new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(x),
  pence: (p) => new Intl.NumberFormat(locale(), { style: 'currency', currency: 'GBP' }).format((p || 0) / 100),
  date: (iso, opts) => formatDate(iso, opts),
  dateTime: (iso, opts) => formatDate(iso, { ...opts, time: true }),
};
