// Login (local and single sign-on) and the forced first-password change.
import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { t } from '../i18n.js';
import { ErrorBox, Field, useForm } from '../ui.jsx';

const ssoErrors = {
  sso_failed: 'login.ssoFailed',
  sso_name_taken: 'login.ssoNameTaken',
  sso_bad_username: 'login.ssoBadUsername',
  sso_unavailable: 'login.ssoUnavailable',
};

export function Login({ onLogin }) {
  const f = useForm({ username: '', password: '' });
  const [providers, setProviders] = useState({});
  const ssoError = new URLSearchParams(location.search).get('error');
  useEffect(() => {
    get('/auth/providers').then(setProviders).catch(() => {});
  }, []);
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => onLogin(await post('/auth/login', v)));
  };
  return (
    <div class="login-page">
      <form class="card login" onSubmit={submit} noValidate>
        <div class="brand big">
          <span class="logo">▲</span> Outpost
        </div>
        <h1>{t('login.title')}</h1>
        {ssoError && <div class="error-box">{t(ssoErrors[ssoError] || 'login.ssoFailed')}</div>}
        {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
        <Field label={t('login.username')} error={f.errors.username}>
          <input {...f.bind('username')} autocomplete="username" autofocus data-testid="username" />
        </Field>
        <Field label={t('login.password')} error={f.errors.password}>
          <input {...f.bind('password')} type="password" autocomplete="current-password" data-testid="password" />
        </Field>
        <button type="submit" disabled={f.busy} data-testid="login">
          {t('login.submit')}
        </button>
        {providers.oidc && (
          <a class="button secondary" href="/api/v1/auth/oidc/login">
            {t('login.sso', { name: providers.oidcName })}
          </a>
        )}
      </form>
    </div>
  );
}

export function ChangePassword({ session, onChanged, embedded }) {
  const f = useForm({ currentPassword: '', newPassword: '', repeat: '' });
  const [done, setDone] = useState(false);
  const submit = (e) => {
    e.preventDefault();
    if (f.values.newPassword !== f.values.repeat) {
      f.setError({ message: t('password.mismatch') });
      return;
    }
    f.submit(async ({ currentPassword, newPassword }) => {
      const s = await post('/auth/password', { currentPassword, newPassword });
      setDone(true);
      f.setValues({ currentPassword: '', newPassword: '', repeat: '' });
      onChanged(s);
    });
  };
  const form = (
    <form class={embedded ? '' : 'card login'} onSubmit={submit} noValidate>
      {!embedded && <h1>{t('password.title')}</h1>}
      {!embedded && session.user.mustChangePassword && <p class="muted">{t('password.mustChange')}</p>}
      {done && embedded && <div class="ok-box">{t('password.changed')}</div>}
      {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
      <Field label={t('password.current')} error={f.errors.currentPassword}>
        <input {...f.bind('currentPassword')} type="password" autocomplete="current-password" data-testid="current-password" />
      </Field>
      <Field label={t('password.new')} error={f.errors.newPassword} hint={t('password.hint')}>
        <input {...f.bind('newPassword')} type="password" autocomplete="new-password" data-testid="new-password" />
      </Field>
      <Field label={t('password.repeat')}>
        <input {...f.bind('repeat')} type="password" autocomplete="new-password" data-testid="repeat-password" />
      </Field>
      <button type="submit" disabled={f.busy} data-testid="change-password">
        {t('password.submit')}
      </button>
    </form>
  );
  return embedded ? form : <div class="login-page">{form}</div>;
}
