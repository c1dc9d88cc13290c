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

// Formatting in the interface language.
export const fmt = {
  number: (n) => new Intl.NumberFormat(locale()).format(n),
  percent: (x) => new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(x),
  pence: (p) => new Intl.NumberFormat(locale(), { style: 'currency', currency: 'GBP' }).format((p || 0) / 100),
  date: (iso) => (iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso)) : ''),
  dateTime: (iso) => (iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)) : ''),
};
