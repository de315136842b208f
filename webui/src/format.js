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
  return v == null || isNaN(v) ? '–' : v < 1 ? (v * 1000).toFixed(0) + 'm' : v.toFixed(2);
}

export function rate(v) {
  return v == null || isNaN(v) ? '–' : bytes(v) + '/s';
}

export function shortDigest(d) {
  return d ? d.replace(/^sha256:/, '').slice(0, 12) : '';
}
