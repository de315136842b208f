// Shared building blocks of the console's pages.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n.js';

export function PageHeader({ title, sub, children }) {
  return (
    <div class="page-header">
      <div>
        <h1>{title}</h1>
        {sub && <div class="sub">{sub}</div>}
      </div>
      <div class="actions">{children}</div>
    </div>
  );
}

export function Card({ title, children, actions, class: cls }) {
  return (
    <section class={'card ' + (cls || '')}>
      {(title || actions) && (
        <div class="card-head">
          <h2>{title}</h2>
          <div class="actions">{actions}</div>
        </div>
      )}
      {children}
    </section>
  );
}

export function Loading() {
  return <div class="muted pad">{t('common.loading')}</div>;
}

// ErrorBox shows an error; "not available" answers (503) are a notice, not
// an alarm.
export function ErrorBox({ error }) {
  if (!error) return null;
  return (
    <div class={error.status === 503 ? 'warn-box' : 'error-box'} role="alert">
      {error.message || String(error)}
    </div>
  );
}

export function Empty({ children }) {
  return <div class="empty">{children || t('common.empty')}</div>;
}

// Table renders rows with columns [{title, render(row), class}].
// error is the load error of rows, shown instead of an endless "Loading".
export function Table({ columns, rows, empty, rowKey, testid, error }) {
  if (!rows) return error ? <ErrorBox error={error} /> : <Loading />;
  if (rows.length === 0) return <Empty>{empty}</Empty>;
  return (
    <div class="table-wrap">
      <table data-testid={testid}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th class={c.class}>{c.title}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={rowKey ? rowKey(r) : r.name || i} data-row={r.name}>
              {columns.map((c) => (
                <td class={c.class}>{c.render(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const statusClass = {
  Running: 'ok', Ready: 'ok', Completed: 'ok', Bound: 'ok', Succeeded: 'ok', imported: 'ok', success: 'ok', resolved: 'ok', Scheduled: 'ok',
  Updating: 'warn', Pending: 'warn', ContainerCreating: 'warn', Terminating: 'warn', pending: 'warn', importing: 'warn', receiving: 'warn', Suspended: 'muted', Stopped: 'muted', silenced: 'muted', canceled: 'muted',
  Failed: 'bad', Error: 'bad', CrashLoopBackOff: 'bad', ImagePullBackOff: 'bad', ErrImagePull: 'bad', NotReady: 'bad', failed: 'bad', firing: 'bad', denied: 'bad', failure: 'bad', OOMKilled: 'bad',
};

export function Status({ value }) {
  const cls = statusClass[value] || (String(value).startsWith('Init:') ? 'warn' : 'muted');
  return <span class={'badge ' + cls} data-status={value}>{value}</span>;
}

// Field wraps an input with its label and the server's reason for it.
export function Field({ label, error, hint, children }) {
  return (
    <label class={'field' + (error ? ' has-error' : '')}>
      <span class="label">{label}</span>
      {children}
      {error ? <span class="field-error" role="alert">{error}</span> : hint ? <span class="hint">{hint}</span> : null}
    </label>
  );
}

// useForm keeps values and the server's field errors of one form.
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const bind = (name) => ({
    value: values[name] ?? '',
    name,
    onInput: (e) => setValues((v) => ({ ...v, [name]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value })),
  });
  // submit runs fn; an ApiError's field reasons go next to the fields and
  // its message above the form.
  const submit = async (fn) => {
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      return await fn(values);
    } catch (err) {
      setErrors(err.fields || {});
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { values, setValues, errors, error, busy, bind, submit, setError };
}

export function Modal({ title, onClose, children }) {
  useEffect(() => {
    const onKey = (e) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-label={title}>
        <div class="card-head">
          <h2>{title}</h2>
          <button class="link" onClick={onClose} aria-label={t('common.close')}>
            ✕
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

// ConfirmButton asks before running a destructive action.
export function ConfirmButton({ label, question, onConfirm, class: cls, testid }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <button class={cls || 'danger'} onClick={() => setOpen(true)} data-testid={testid}>
        {label}
      </button>
      {open && (
        <Modal title={label} onClose={() => setOpen(false)}>
          <p>{question}</p>
          <ErrorBox error={error} />
          <div class="form-actions">
            <button class="secondary" onClick={() => setOpen(false)}>
              {t('common.cancel')}
            </button>
            <button
              class="danger"
              disabled={busy}
              data-testid="confirm"
              onClick={async () => {
                setBusy(true);
                try {
                  await onConfirm();
                  setOpen(false);
                } catch (err) {
                  setError(err);
                } finally {
                  setBusy(false);
                }
              }}
            >
              {t('common.confirm')}
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}

export function Tabs({ tabs, active, onChange }) {
  return (
    <div class="tabs" role="tablist">
      {tabs.map(([id, label]) => (
        <button role="tab" aria-selected={active === id} class={active === id ? 'active' : ''} onClick={() => onChange(id)}>
          {label}
        </button>
      ))}
    </div>
  );
}

export function RangePicker({ value, onChange }) {
  return (
    <div class="range-picker" role="group" aria-label={t('chart.range')}>
      {['15m', '1h', '6h', '24h', '7d'].map((r) => (
        <button class={value === r ? 'active' : ''} onClick={() => onChange(r)}>
          {r}
        </button>
      ))}
    </div>
  );
}

const palette = ['#2f6fdf', '#e0803a', '#3aa76d', '#b54fc4', '#d04848', '#4fb4c4'];

// Chart draws time series ({name, points: [[unixSeconds, value]]}) as lines.
export function Chart({ title, series, format, height = 140, testid }) {
  const ref = useRef(null);
  const [hover, setHover] = useState(null);
  const width = 520;
  const pad = { l: 56, r: 8, t: 8, b: 20 };
  const all = (series || []).flatMap((s) => s.points);
  if (!series) return <div class="chart"><h3>{title}</h3><Loading /></div>;
  if (all.length === 0)
    return (
      <div class="chart" data-testid={testid}>
        <h3>{title}</h3>
        <Empty>{t('chart.noData')}</Empty>
      </div>
    );
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || x0 + 1;
  const y1 = Math.max(...ys, 0) * 1.1 || 1;
  const X = (x) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const Y = (y) => pad.t + (1 - y / y1) * (height - pad.t - pad.b);
  const fmtTime = (s) => new Date(s * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const onMove = (e) => {
    const box = ref.current.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * width;
    const ts = x0 + ((x - pad.l) / (width - pad.l - pad.r)) * (x1 - x0);
    const near = series.map((s) => s.points.reduce((best, p) => (Math.abs(p[0] - ts) < Math.abs(best[0] - ts) ? p : best), s.points[0]));
    setHover({ x: X(near[0][0]), ts: near[0][0], values: near.map((p) => p[1]) });
  };
  const last = series.map((s) => (s.points.length ? s.points[s.points.length - 1][1] : null));
  return (
    <div class="chart" data-testid={testid}>
      <h3>
        {title} <span class="muted">{last.map((v) => format(v)).join(' / ')}</span>
      </h3>
      <svg ref={ref} viewBox={`0 0 ${width} ${height}`} onMouseMove={onMove} onMouseLeave={() => setHover(null)} role="img" aria-label={title}>
        {[0, 0.5, 1].map((f) => (
          <g>
            <line x1={pad.l} x2={width - pad.r} y1={Y(y1 * f)} y2={Y(y1 * f)} class="grid" />
            <text x={pad.l - 4} y={Y(y1 * f) + 4} text-anchor="end" class="axis">
              {format(y1 * f)}
            </text>
          </g>
        ))}
        <text x={pad.l} y={height - 4} class="axis">{fmtTime(x0)}</text>
        <text x={width - pad.r} y={height - 4} text-anchor="end" class="axis">{fmtTime(x1)}</text>
        {series.map((s, i) =>
          s.points.length === 1 ? (
            <circle cx={X(s.points[0][0])} cy={Y(s.points[0][1])} r="2.5" fill={palette[i % palette.length]} />
          ) : (
            <polyline fill="none" stroke={palette[i % palette.length]} stroke-width="1.6" points={s.points.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')} />
          ),
        )}
        {hover && <line x1={hover.x} x2={hover.x} y1={pad.t} y2={height - pad.b} class="cursor" />}
      </svg>
      {hover && (
        <div class="chart-tip">
          {fmtTime(hover.ts)} · {hover.values.map((v) => format(v)).join(' / ')}
        </div>
      )}
    </div>
  );
}

export function Copy({ text }) {
  const [done, setDone] = useState(false);
  return (
    <button
      class="link"
      onClick={() => {
        navigator.clipboard?.writeText(text);
        setDone(true);
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? t('common.copied') : t('common.copy')}
    </button>
  );
}
