// Formatting helpers for sizes, times and numbers.
import { t, lang } from './i18n.js';

export function bytes(n) {
  if (n == null || isNaN(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

export function age(iso) {
  if (!iso) return '–';
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return t('time.seconds', { n: Math.floor(s) });
  if (s < 3600) return t('time.minutes', { n: Math.floor(s / 60) });
  if (s < 86400) return t('time.hours', { n: Math.floor(s / 3600) });
  return t('time.days', { n: Math.floor(s / 86400) });
}

export function dateTime(iso) {
  if (!iso) return '–';
  return new Date(iso).toLocaleString(lang());
}

export function percent(v) {
  return v == null || isNaN(v) ? '–' : (v * 100).toFixed(1) + ' %';
}

export function cores(v) {
  if (v == null || isNaN(v)) return '–';
  if (v >= 1) return v.toFixed(2);
  const m = v * 1000;
  // An idle service uses fractions of a millicore; keep them visible.
  return (m >= 10 ? m.toFixed(0) : m >= 1 ? m.toFixed(1) : m === 0 ? '0' : m.toFixed(2)) + 'm';
}

// count formats a number of things (restarts): whole numbers stay whole.
export function count(v) {
  return v == null || isNaN(v) ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function rate(v) {
  return v == null || isNaN(v) ? '–' : bytes(v) + '/s';
}

export function shortDigest(d) {
  return d ? d.replace(/^sha256:/, '').slice(0, 12) : '';
}
