// A hash router: "#/s/sch_1/funnel" is the path "/s/sch_1/funnel". Routes
// are patterns with ":name" segments.
import { useEffect, useState } from './ui.js';

export function currentPath() {
  const h = location.hash.replace(/^#/, '');
  return h.startsWith('/') ? h : '/';
}

// match returns the params of pattern in path, or null.
export function match(pattern, path) {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('?')[0].split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

// query reads "?a=b" after the hash path.
export function query(path = currentPath()) {
  const i = path.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : path.slice(i + 1));
}

export function navigate(path) {
  if (currentPath() === path) return;
  location.hash = '#' + path;
}

// usePath re-renders on every hash change.
export function usePath() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const on = () => setPath(currentPath());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return path;
}

// link builds an href for a path.
export const href = (path) => '#' + path;

// handoff carries values between the shell and a screen without putting
// them in the address bar or storage (a password-reset link's token).
export const handoff = { resetToken: '' };
