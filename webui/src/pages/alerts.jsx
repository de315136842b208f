// Alerts: firing and resolved alerts, rules, receivers and silences.
import { useState } from 'preact/hooks';
import { del, enc, post, put } from '../api.js';
import { dateTime } from '../format.js';
import { useLoad } from '../hooks.js';
import { t } from '../i18n.js';
import { isPlatformAdmin, useSession } from '../session.js';
import { Card, ConfirmButton, ErrorBox, Field, Modal, PageHeader, Status, Table, Tabs, useForm } from '../ui.jsx';

export function Alerts() {
  const session = useSession();
  const admin = isPlatformAdmin(session);
  const [tab, setTab] = useState('alerts');
  return (
    <>
      <PageHeader title={t('alerts.title')} />
      <Tabs
        tabs={[['alerts', t('alerts.alerts')], ['rules', t('alerts.rules')], ['silences', t('alerts.silences')], ...(admin ? [['receivers', t('alerts.receivers')]] : [])]}
        active={tab}
        onChange={setTab}
      />
      {tab === 'alerts' && <AlertList />}
      {tab === 'rules' && <Rules />}
      {tab === 'silences' && <Silences admin={admin} />}
      {tab === 'receivers' && <Receivers />}
    </>
  );
}

function AlertList() {
  const { data, error } = useLoad('/alerts');
  const [state, setState] = useState('');
  const rows = data && data.items.filter((a) => !state || a.state === state);
  return (
    <Card actions={
      <select value={state} onChange={(e) => setState(e.currentTarget.value)} aria-label={t('common.status')}>
        <option value="">{t('alerts.any')}</option>
        <option value="firing">{t('alerts.firing')}</option>
        <option value="pending">{t('alerts.pending')}</option>
        <option value="silenced">{t('alerts.silenced')}</option>
        <option value="resolved">{t('alerts.resolved')}</option>
      </select>
    }>
      <ErrorBox error={error} />
      <Table
        rows={error ? [] : rows}
        rowKey={(a) => a.name + JSON.stringify(a.labels)}
        empty={t('alerts.none')}
        columns={[
          { title: t('alerts.alert'), render: (a) => <strong>{a.name}</strong> },
          { title: t('common.status'), render: (a) => <Status value={a.state} /> },
          { title: t('alerts.severity'), render: (a) => a.severity || '–' },
          { title: t('alerts.summary'), render: (a) => a.annotations?.summary || a.annotations?.description || '' },
          { title: t('alerts.labels'), class: 'mono small', render: (a) => Object.entries(a.labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(' ') },
          { title: t('alerts.since'), render: (a) => dateTime(a.activeAt) },
        ]}
      />
    </Card>
  );
}

function Rules() {
  const { data, error } = useLoad('/alerts/rules');
  return (
    <Card>
      <ErrorBox error={error} />
      <Table
        rows={error ? [] : data?.items}
        rowKey={(r) => r.group + r.name}
        columns={[
          { title: t('alerts.rule'), render: (r) => <strong>{r.name}</strong> },
          { title: t('alerts.group'), render: (r) => r.group },
          { title: t('common.status'), render: (r) => <Status value={r.state || 'inactive'} /> },
          { title: t('alerts.query'), class: 'mono small', render: (r) => r.query },
          { title: t('alerts.for'), render: (r) => r.for || '–' },
        ]}
      />
    </Card>
  );
}

function Silences({ admin }) {
  const { data, error, reload } = useLoad('/alerts/silences');
  const [open, setOpen] = useState(false);
  const f = useForm({ matchers: '', hours: '2', comment: '' });
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const now = new Date();
      await post('/alerts/silences', {
        matchers: v.matchers.split(',').map((m) => m.trim()).filter(Boolean),
        startsAt: now.toISOString(),
        endsAt: new Date(now.getTime() + Number(v.hours) * 3600e3).toISOString(),
        comment: v.comment,
      });
      setOpen(false);
      reload();
    });
  };
  return (
    <Card actions={admin && !error && <button onClick={() => setOpen(true)}>{t('alerts.newSilence')}</button>}>
      <ErrorBox error={error} />
      <Table
        rows={error ? [] : data?.items}
        rowKey={(s) => s.id}
        empty={t('alerts.noSilences')}
        columns={[
          { title: t('alerts.matchers'), class: 'mono', render: (s) => s.matchers.join(', ') },
          { title: t('common.status'), render: (s) => s.state || '–' },
          { title: t('alerts.until'), render: (s) => dateTime(s.endsAt) },
          { title: t('alerts.by'), render: (s) => s.createdBy },
          { title: t('alerts.comment'), render: (s) => s.comment },
          {
            title: '',
            render: (s) =>
              admin && (
                <ConfirmButton class="link danger" label={t('alerts.expire')} question={t('alerts.expireQuestion')}
                  onConfirm={async () => {
                    await del(`/alerts/silences/${enc(s.id)}`);
                    reload();
                  }} />
              ),
          },
        ]}
      />
      {open && (
        <Modal title={t('alerts.newSilence')} onClose={() => setOpen(false)}>
          <form onSubmit={submit} noValidate>
            {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
            <Field label={t('alerts.matchers')} error={f.errors.matchers} hint={t('alerts.matchersHint')}>
              <input {...f.bind('matchers')} />
            </Field>
            <Field label={t('alerts.hours')} error={f.errors.endsAt}>
              <input {...f.bind('hours')} type="number" min="1" />
            </Field>
            <Field label={t('alerts.comment')}>
              <input {...f.bind('comment')} />
            </Field>
            <div class="form-actions">
              <button type="submit" disabled={f.busy}>{t('common.create')}</button>
            </div>
          </form>
        </Modal>
      )}
    </Card>
  );
}

const receiverKinds = ['webhook', 'wecom', 'dingtalk', 'feishu', 'email'];

function Receivers() {
  const { data, error, reload } = useLoad('/alerts/receivers');
  const [open, setOpen] = useState(false);
  const f = useForm({ name: '', kind: 'webhook', url: '', secret: '', to: '', from: '', smarthost: '', match: '' });
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const body = { name: v.name, match: v.match ? v.match.split(',').map((m) => m.trim()) : [] };
      if (v.kind === 'email') body.email = { to: v.to.split(',').map((s) => s.trim()), from: v.from, smarthost: v.smarthost };
      else if (v.kind === 'webhook') body.webhook = { url: v.url };
      else body[v.kind] = { url: v.url, secret: v.secret || undefined };
      await put(`/alerts/receivers/${enc(v.name)}`, body);
      setOpen(false);
      reload();
    });
  };
  const kindOf = (r) => receiverKinds.find((k) => r[k]) || '–';
  return (
    <Card actions={!error && <button onClick={() => setOpen(true)}>{t('alerts.newReceiver')}</button>}>
      <ErrorBox error={error} />
      <Table
        rows={error ? [] : data?.items}
        empty={t('alerts.noReceivers')}
        columns={[
          { title: t('common.name'), render: (r) => <strong>{r.name}</strong> },
          { title: t('alerts.kind'), render: (r) => t('alerts.kind.' + kindOf(r), {}, kindOf(r)) },
          { title: t('alerts.matchers'), class: 'mono', render: (r) => (r.match || []).join(', ') || t('alerts.allAlerts') },
          {
            title: '',
            render: (r) => r.source === 'config' ? <span class="muted">{t('alerts.fromConfig')}</span> : (
              <ConfirmButton class="link danger" label={t('common.delete')} question={t('alerts.deleteReceiver', { name: r.name })}
                onConfirm={async () => {
                  await del(`/alerts/receivers/${enc(r.name)}`);
                  reload();
                }} />
            ),
          },
        ]}
      />
      {open && (
        <Modal title={t('alerts.newReceiver')} onClose={() => setOpen(false)}>
          <form onSubmit={submit} noValidate>
            {f.error && <ErrorBox error={f.error} />}
            <Field label={t('common.name')} error={f.errors.name}>
              <input {...f.bind('name')} />
            </Field>
            <Field label={t('alerts.kind')}>
              <select {...f.bind('kind')}>
                {receiverKinds.map((k) => (
                  <option value={k}>{t('alerts.kind.' + k)}</option>
                ))}
              </select>
            </Field>
            {f.values.kind === 'email' ? (
              <>
                <Field label={t('alerts.to')}><input {...f.bind('to')} /></Field>
                <Field label={t('alerts.from')}><input {...f.bind('from')} /></Field>
                <Field label={t('alerts.smarthost')} hint="smtp.example.com:587"><input {...f.bind('smarthost')} /></Field>
              </>
            ) : (
              <>
                <Field label={t('alerts.url')}><input {...f.bind('url')} /></Field>
                {f.values.kind !== 'webhook' && <Field label={t('alerts.signSecret')}><input {...f.bind('secret')} type="password" /></Field>}
              </>
            )}
            <Field label={t('alerts.matchers')} hint={t('alerts.matchersHint')}>
              <input {...f.bind('match')} />
            </Field>
            <div class="form-actions">
              <button type="submit" disabled={f.busy}>{t('common.save')}</button>
            </div>
          </form>
        </Modal>
      )}
    </Card>
  );
}
