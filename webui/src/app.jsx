// The console shell: session, navigation and routes.
import { useEffect, useState, useCallback } from 'preact/hooks';
import { get, post, setAuthHandlers, setCsrfToken } from './api.js';
import { t, lang, setLang, languages } from './i18n.js';
import { Link, match, navigate, useLocation } from './router.jsx';
import { SessionContext, isPlatformAdmin } from './session.js';
import { Loading } from './ui.jsx';
import { Login, ChangePassword } from './pages/login.jsx';
import { Overview, Nodes, StorageClasses, Namespaces } from './pages/cluster.jsx';
import { Projects, WorkspacePage, ProjectMembers } from './pages/tenancy.jsx';
import { Workloads, WorkloadDetail, CreateWorkload, PodDetail, Pods, Events } from './pages/workloads.jsx';
import { Resources } from './pages/resources.jsx';
import { Images, Bundles } from './pages/registry.jsx';
import { Alerts } from './pages/alerts.jsx';
import { Users, Audit, Account } from './pages/admin.jsx';

const routes = [
  ['/', Overview],
  ['/projects', Projects],
  ['/workspaces/:workspace', WorkspacePage],
  ['/projects/:project', Workloads],
  ['/projects/:project/workloads', Workloads],
  ['/projects/:project/workloads/new', CreateWorkload],
  ['/projects/:project/workloads/:kind/:name', WorkloadDetail],
  ['/projects/:project/pods', Pods],
  ['/projects/:project/pods/:name', PodDetail],
  ['/projects/:project/events', Events],
  ['/projects/:project/members', ProjectMembers],
  ['/projects/:project/resources/:kind', Resources],
  ['/cluster/nodes', Nodes],
  ['/cluster/storage', StorageClasses],
  ['/cluster/namespaces', Namespaces],
  ['/images', Images],
  ['/bundles', Bundles],
  ['/alerts', Alerts],
  ['/users', Users],
  ['/audit', Audit],
  ['/account', Account],
];

export function App() {
  const [session, setSession] = useState(undefined);
  const loc = useLocation();

  const refresh = useCallback(() => {
    return get('/auth/session')
      .then((s) => {
        setCsrfToken(s.csrfToken);
        setSession(s);
        return s;
      })
      .catch(() => setSession(null));
  }, []);

  useEffect(() => {
    setAuthHandlers({
      sessionEnded: () => setSession(null),
      passwordChangeRequired: () => setSession((s) => (s ? { ...s, user: { ...s.user, mustChangePassword: true } } : s)),
    });
    refresh();
  }, []);

  if (session === undefined) return <Loading />;
  if (session === null) {
    return <Login onLogin={(s) => { setCsrfToken(s.csrfToken); setSession(s); if (loc.path === '/login') navigate('/', { replace: true }); }} />;
  }
  if (session.user.mustChangePassword) {
    return <ChangePassword session={session} onChanged={(s) => { setCsrfToken(s.csrfToken); setSession(s); navigate('/', { replace: true }); }} />;
  }
  const found = match(routes, loc.path === '/login' ? '/' : loc.path);
  const Page = found ? found.component : NotFound;
  return (
    <SessionContext.Provider value={{ ...session, refresh }}>
      <Shell session={session} path={loc.path} project={found?.params.project} onLogout={() => setSession(null)}>
        <Page {...(found ? found.params : {})} query={loc.query} key={loc.path} />
      </Shell>
    </SessionContext.Provider>
  );
}

function NotFound() {
  return (
    <div class="card pad">
      <h1>{t('common.notFound')}</h1>
      <Link href="/">{t('nav.overview')}</Link>
    </div>
  );
}

function NavLink({ href, children, path, exact }) {
  const active = exact ? path === href : path === href || path.startsWith(href + '/');
  return (
    <Link href={href} class={active ? 'active' : ''}>
      {children}
    </Link>
  );
}

function Shell({ session, path, project, onLogout, children }) {
  const [projects, setProjects] = useState([]);
  const admin = isPlatformAdmin(session);
  const current = project || localStorage.getItem('outpost.project') || '';
  useEffect(() => {
    get('/projects').then((d) => setProjects(d.items)).catch(() => {});
  }, [session]);
  useEffect(() => {
    if (project) localStorage.setItem('outpost.project', project);
  }, [project]);
  const selected = projects.find((p) => p.name === current) ? current : projects[0]?.name || '';
  const logout = async () => {
    try {
      await post('/auth/logout');
    } catch {
      // The session is gone either way.
    }
    onLogout();
    navigate('/login', { replace: true });
  };
  const p = (rest) => `/projects/${encodeURIComponent(selected)}${rest}`;
  return (
    <div class="shell">
      <nav class="sidebar" aria-label={t('nav.main')}>
        <div class="brand">
          <span class="logo">▲</span> Outpost
        </div>
        <NavLink href="/" path={path} exact>
          {t('nav.overview')}
        </NavLink>
        <NavLink href="/projects" path={path} exact>
          {t('nav.projects')}
        </NavLink>
        {projects.length > 0 && (
          <div class="nav-group">
            <select
              aria-label={t('nav.project')}
              data-testid="project-select"
              value={selected}
              onChange={(e) => navigate(`/projects/${encodeURIComponent(e.currentTarget.value)}/workloads`)}
            >
              {projects.map((pr) => (
                <option value={pr.name}>{pr.name}</option>
              ))}
            </select>
            <NavLink href={p('/workloads')} path={path}>{t('nav.workloads')}</NavLink>
            <NavLink href={p('/pods')} path={path}>{t('nav.pods')}</NavLink>
            <NavLink href={p('/resources/services')} path={path}>{t('nav.services')}</NavLink>
            <NavLink href={p('/resources/ingresses')} path={path}>{t('nav.ingresses')}</NavLink>
            <NavLink href={p('/resources/configmaps')} path={path}>{t('nav.configmaps')}</NavLink>
            <NavLink href={p('/resources/secrets')} path={path}>{t('nav.secrets')}</NavLink>
            <NavLink href={p('/resources/persistentvolumeclaims')} path={path}>{t('nav.volumes')}</NavLink>
            <NavLink href={p('/events')} path={path}>{t('nav.events')}</NavLink>
            <NavLink href={p('/members')} path={path}>{t('nav.members')}</NavLink>
          </div>
        )}
        <div class="nav-title">{t('nav.cluster')}</div>
        <NavLink href="/cluster/nodes" path={path}>{t('nav.nodes')}</NavLink>
        <NavLink href="/cluster/storage" path={path}>{t('nav.storage')}</NavLink>
        {admin && <NavLink href="/cluster/namespaces" path={path}>{t('nav.namespaces')}</NavLink>}
        <NavLink href="/images" path={path}>{t('nav.images')}</NavLink>
        {admin && <NavLink href="/bundles" path={path}>{t('nav.bundles')}</NavLink>}
        <NavLink href="/alerts" path={path}>{t('nav.alerts')}</NavLink>
        {(admin || session.access.adminOfSomething) && <div class="nav-title">{t('nav.administration')}</div>}
        {admin && <NavLink href="/users" path={path}>{t('nav.users')}</NavLink>}
        {session.access.adminOfSomething && <NavLink href="/audit" path={path}>{t('nav.audit')}</NavLink>}
      </nav>
      <div class="main">
        <header class="topbar">
          <span />
          <div class="actions">
            <select aria-label={t('nav.language')} value={lang()} onChange={(e) => { setLang(e.currentTarget.value); location.reload(); }}>
              {languages.map(([code, name]) => (
                <option value={code}>{name}</option>
              ))}
            </select>
            <Link href="/account" data-testid="account-link">
              {session.user.displayName || session.user.name}
            </Link>
            <button class="secondary" onClick={logout} data-testid="logout">
              {t('nav.logout')}
            </button>
          </div>
        </header>
        <main>{children}</main>
      </div>
    </div>
  );
}
