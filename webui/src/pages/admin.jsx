// Users, the audit log and the user's own account (password, API tokens).
import { useEffect, useState } from 'preact/hooks';
import { del, enc, get, patch, post } from '../api.js';
import { age, dateTime } from '../format.js';
import { useLoad } from '../hooks.js';
import { t } from '../i18n.js';
import { useSession } from '../session.js';
import { Card, ConfirmButton, Copy, ErrorBox, Field, Modal, PageHeader, Status, Table, useForm } from '../ui.jsx';
import { ChangePassword } from './login.jsx';

export function Users() {
  const session = useSession();
  const { data, error, reload } = useLoad('/users');
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState(null);
  const [actionError, setActionError] = useState(null);
  const update = (u, body) => async () => {
    setActionError(null);
    try {
      await patch(`/users/${u.id}`, body);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  return (
    <>
      <PageHeader title={t('users.title')}>
        <button onClick={() => setCreating(true)} data-testid="new-user">{t('users.new')}</button>
      </PageHeader>
      <ErrorBox error={actionError} />
      <Card>
        <Table
          testid="users"
          error={error}
          rows={data?.items}
          columns={[
            { title: t('users.name'), render: (u) => <strong>{u.name}</strong> },
            { title: t('users.displayName'), render: (u) => u.displayName },
            { title: t('users.source'), render: (u) => (u.source === 'oidc' ? t('tenancy.fromSSO') : t('users.local')) },
            { title: t('users.platformAdmin'), render: (u) => (u.platformAdmin ? t('common.yes') : t('common.no')) },
            { title: t('common.status'), render: (u) => <Status value={u.disabled ? 'Stopped' : 'Running'} /> },
            { title: t('users.lastLogin'), render: (u) => (u.lastLoginAt ? age(u.lastLoginAt) : t('users.never')) },
            {
              title: '',
              render: (u) =>
                u.id !== session.user.id && (
                  <span class="row-actions">
                    <button class="link" onClick={update(u, { platformAdmin: !u.platformAdmin })}>
                      {u.platformAdmin ? t('users.revokeAdmin') : t('users.makeAdmin')}
                    </button>
                    <button class="link" onClick={update(u, { disabled: !u.disabled })}>{u.disabled ? t('users.enable') : t('users.disable')}</button>
                    {u.source === 'local' && <button class="link" onClick={() => setResetting(u)}>{t('users.resetPassword')}</button>}
                    <ConfirmButton class="link danger" label={t('common.delete')} question={t('users.deleteQuestion', { name: u.name })}
                      onConfirm={async () => {
                        await del(`/users/${u.id}`);
                        reload();
                      }} />
                  </span>
                ),
            },
          ]}
        />
      </Card>
      {creating && <CreateUser onClose={() => { setCreating(false); reload(); }} />}
      {resetting && <ResetPassword user={resetting} onClose={() => setResetting(null)} />}
    </>
  );
}

function CreateUser({ onClose }) {
  const f = useForm({ name: '', displayName: '', email: '', password: '', platformAdmin: false });
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      await post('/users', v);
      onClose();
    });
  };
  return (
    <Modal title={t('users.new')} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
        <Field label={t('users.name')} error={f.errors.name}><input {...f.bind('name')} data-testid="user-name" /></Field>
        <Field label={t('users.displayName')} error={f.errors.displayName}><input {...f.bind('displayName')} /></Field>
        <Field label={t('users.email')} error={f.errors.email}><input {...f.bind('email')} type="email" /></Field>
        <Field label={t('users.initialPassword')} error={f.errors.password} hint={t('users.initialPasswordHint')}>
          <input {...f.bind('password')} type="password" autocomplete="new-password" data-testid="user-password" />
        </Field>
        <label class="check">
          <input type="checkbox" checked={f.values.platformAdmin} onChange={(e) => f.setValues({ ...f.values, platformAdmin: e.currentTarget.checked })} />
          {t('users.platformAdmin')}
        </label>
        <div class="form-actions">
          <button type="submit" disabled={f.busy} data-testid="create-user">{t('common.create')}</button>
        </div>
      </form>
    </Modal>
  );
}

function ResetPassword({ user, onClose }) {
  const f = useForm({ password: '' });
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      await post(`/users/${user.id}/password`, v);
      onClose();
    });
  };
  return (
    <Modal title={t('users.resetPasswordFor', { name: user.name })} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
        <Field label={t('users.initialPassword')} error={f.errors.password} hint={t('users.initialPasswordHint')}>
          <input {...f.bind('password')} type="password" autocomplete="new-password" />
        </Field>
        <div class="form-actions">
          <button type="submit" disabled={f.busy}>{t('users.resetPassword')}</button>
        </div>
      </form>
    </Modal>
  );
}

export function Audit({ query }) {
  const [filters, setFilters] = useState({ actor: query.get('actor') || '', action: '', project: query.get('project') || '', result: '', q: '', since: '', until: '' });
  const [entries, setEntries] = useState(null);
  const [error, setError] = useState(null);
  const [more, setMore] = useState(false);
  const qs = (extra) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) {
      if (!v) continue;
      p.set(k, k === 'since' || k === 'until' ? new Date(v).toISOString().replace(/\.\d+Z$/, 'Z') : v);
    }
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return p.toString();
  };
  const search = async (append) => {
    setError(null);
    try {
      const before = append && entries?.length ? { before: entries[entries.length - 1].id } : {};
      const res = await get('/audit?' + qs({ limit: 100, ...before }));
      setEntries(append ? [...entries, ...res.items] : res.items);
      setMore(res.items.length === 100);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    search(false);
  }, []);
  const bind = (k) => ({ value: filters[k], onInput: (e) => setFilters({ ...filters, [k]: e.currentTarget.value }) });
  return (
    <>
      <PageHeader title={t('audit.title')} sub={t('audit.sub')}>
        <a class="button secondary" href={`/api/v1/audit/export?format=csv&${qs()}`} download>{t('audit.exportCSV')}</a>
        <a class="button secondary" href={`/api/v1/audit/export?format=ndjson&${qs()}`} download>{t('audit.exportJSON')}</a>
      </PageHeader>
      <Card>
        <form class="filters" onSubmit={(e) => { e.preventDefault(); search(false); }}>
          <Field label={t('audit.actor')} error={error?.fields?.actor}><input {...bind('actor')} /></Field>
          <Field label={t('audit.action')}><input {...bind('action')} placeholder="workload.scale" /></Field>
          <Field label={t('tenancy.project')}><input {...bind('project')} /></Field>
          <Field label={t('audit.result')} error={error?.fields?.result}>
            <select {...bind('result')}>
              <option value="">{t('alerts.any')}</option>
              <option value="success">{t('audit.success')}</option>
              <option value="denied">{t('audit.denied')}</option>
              <option value="failure">{t('audit.failure')}</option>
            </select>
          </Field>
          <Field label={t('audit.text')}><input {...bind('q')} type="search" data-testid="audit-search" /></Field>
          <Field label={t('audit.since')} error={error?.fields?.since}><input {...bind('since')} type="datetime-local" /></Field>
          <Field label={t('audit.until')} error={error?.fields?.until}><input {...bind('until')} type="datetime-local" /></Field>
          <div class="form-actions"><button type="submit">{t('audit.search')}</button></div>
        </form>
        <ErrorBox error={error} />
        <Table
          testid="audit"
          rows={entries}
          rowKey={(e) => e.id}
          columns={[
            { title: t('audit.when'), class: 'nowrap', render: (e) => dateTime(e.at) },
            { title: t('audit.actor'), render: (e) => e.actor },
            { title: t('audit.action'), class: 'mono nowrap', render: (e) => e.action },
            { title: t('audit.object'), render: (e) => [e.kind, e.project, e.name].filter(Boolean).join(' / ') },
            { title: t('audit.change'), render: (e) => e.detail || <span class="muted">{e.message}</span> },
            { title: t('audit.result'), render: (e) => <span title={e.message}><Status value={e.result} /> {e.status}</span> },
            { title: t('audit.ip'), class: 'mono', render: (e) => e.ip },
          ]}
        />
        {more && <button class="secondary" onClick={() => search(true)}>{t('audit.more')}</button>}
      </Card>
    </>
  );
}

export function Account() {
  const session = useSession();
  const tokens = useLoad('/tokens');
  const [created, setCreated] = useState(null);
  const f = useForm({ name: '', expiresInDays: '90' });
  const create = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      setCreated(await post('/tokens', { name: v.name, expiresInDays: Number(v.expiresInDays || 0) }));
      f.setValues({ name: '', expiresInDays: v.expiresInDays });
      tokens.reload();
    });
  };
  return (
    <>
      <PageHeader title={t('account.title')} sub={session.user.name} />
      {session.user.source === 'local' && (
        <Card title={t('password.title')}>
          <ChangePassword session={session} embedded onChanged={() => session.refresh()} />
        </Card>
      )}
      <Card title={t('account.tokens')}>
        <p class="muted">{t('account.tokensHint')}</p>
        {created && (
          <div class="ok-box">
            {t('account.tokenCreated')} <code data-testid="new-token">{created.token}</code> <Copy text={created.token} />
          </div>
        )}
        <Table
          error={tokens.error}
          rows={tokens.data?.items}
          rowKey={(k) => k.id}
          empty={t('account.noTokens')}
          columns={[
            { title: t('common.name'), render: (k) => k.name },
            { title: t('account.created'), render: (k) => dateTime(k.createdAt) },
            { title: t('account.lastUsed'), render: (k) => (k.lastUsedAt ? age(k.lastUsedAt) : t('users.never')) },
            { title: t('account.expires'), render: (k) => (k.expiresAt ? dateTime(k.expiresAt) : t('account.never')) },
            {
              title: '',
              render: (k) => (
                <ConfirmButton class="link danger" label={t('account.revoke')} question={t('account.revokeQuestion', { name: k.name })}
                  onConfirm={async () => {
                    await del(`/tokens/${k.id}`);
                    tokens.reload();
                  }} />
              ),
            },
          ]}
        />
        <form class="inline-form" onSubmit={create} noValidate>
          <Field label={t('common.name')} error={f.errors.name}><input {...f.bind('name')} /></Field>
          <Field label={t('account.expiresInDays')} error={f.errors.expiresInDays} hint={t('account.zeroNever')}>
            <input {...f.bind('expiresInDays')} type="number" min="0" />
          </Field>
          <button type="submit" disabled={f.busy}>{t('account.createToken')}</button>
        </form>
      </Card>
    </>
  );
}
