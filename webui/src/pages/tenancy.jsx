// Workspaces, projects and their members.
import { useState } from 'preact/hooks';
import { del, enc, post, put } from '../api.js';
import { age } from '../format.js';
import { useLoad } from '../hooks.js';
import { t } from '../i18n.js';
import { Link, navigate } from '../router.jsx';
import { isPlatformAdmin, roleIn, useSession } from '../session.js';
import { Card, ConfirmButton, ErrorBox, Field, Modal, PageHeader, Table, useForm } from '../ui.jsx';

function CreateWorkspace({ onDone }) {
  const f = useForm({ name: '', description: '' });
  const [open, setOpen] = useState(false);
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      await post('/workspaces', v);
      setOpen(false);
      f.setValues({ name: '', description: '' });
      onDone();
    });
  };
  return (
    <>
      <button onClick={() => setOpen(true)} data-testid="new-workspace">{t('tenancy.newWorkspace')}</button>
      {open && (
        <Modal title={t('tenancy.newWorkspace')} onClose={() => setOpen(false)}>
          <form onSubmit={submit} noValidate>
            {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
            <Field label={t('common.name')} error={f.errors.name} hint={t('tenancy.nameHint')}>
              <input {...f.bind('name')} data-testid="workspace-name" />
            </Field>
            <Field label={t('common.description')} error={f.errors.description}>
              <input {...f.bind('description')} />
            </Field>
            <div class="form-actions">
              <button type="submit" disabled={f.busy} data-testid="create-workspace">{t('common.create')}</button>
            </div>
          </form>
        </Modal>
      )}
    </>
  );
}

export function CreateProject({ workspace, onDone }) {
  const session = useSession();
  const f = useForm({ name: '', description: '' });
  const [open, setOpen] = useState(false);
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const p = await post(`/workspaces/${enc(workspace)}/projects`, v);
      setOpen(false);
      await session.refresh();
      onDone && onDone();
      navigate(`/projects/${enc(p.name)}/workloads`);
    });
  };
  return (
    <>
      <button onClick={() => setOpen(true)} data-testid={`new-project-${workspace}`}>{t('tenancy.newProject')}</button>
      {open && (
        <Modal title={t('tenancy.newProjectIn', { workspace })} onClose={() => setOpen(false)}>
          <form onSubmit={submit} noValidate>
            {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
            <Field label={t('common.name')} error={f.errors.name} hint={t('tenancy.projectHint')}>
              <input {...f.bind('name')} data-testid="project-name" />
            </Field>
            <Field label={t('common.description')} error={f.errors.description}>
              <input {...f.bind('description')} />
            </Field>
            <div class="form-actions">
              <button type="submit" disabled={f.busy} data-testid="create-project">{t('common.create')}</button>
            </div>
          </form>
        </Modal>
      )}
    </>
  );
}

export function Projects() {
  const session = useSession();
  const ws = useLoad('/workspaces');
  const projects = useLoad('/projects');
  const admin = isPlatformAdmin(session);
  const reload = () => {
    ws.reload();
    projects.reload();
  };
  const byWs = {};
  for (const p of projects.data?.items || []) (byWs[p.workspace] = byWs[p.workspace] || []).push(p);
  const wsAdmin = (name) => admin || session.access.workspaceAdmin.includes(name);
  return (
    <>
      <PageHeader title={t('tenancy.title')} sub={t('tenancy.sub')}>
        {admin && <CreateWorkspace onDone={reload} />}
      </PageHeader>
      <ErrorBox error={ws.error || projects.error} />
      {ws.data && ws.data.items.length === 0 && <div class="empty">{admin ? t('tenancy.noWorkspacesAdmin') : t('tenancy.noWorkspaces')}</div>}
      {(ws.data?.items || []).map((w) => (
        <Card
          title={<Link href={`/workspaces/${enc(w.name)}`}>{t('tenancy.workspace')}: {w.name}</Link>}
          actions={wsAdmin(w.name) && <CreateProject workspace={w.name} onDone={reload} />}
        >
          {w.description && <p class="muted">{w.description}</p>}
          <Table
            rows={byWs[w.name] || []}
            empty={t('tenancy.noProjects')}
            columns={[
              { title: t('tenancy.project'), render: (p) => <Link href={`/projects/${enc(p.name)}/workloads`}>{p.name}</Link> },
              { title: t('tenancy.role'), render: (p) => t('role.' + p.role) },
              { title: t('common.description'), render: (p) => p.description },
              { title: t('common.age'), render: (p) => age(p.createdAt) },
            ]}
          />
        </Card>
      ))}
    </>
  );
}

function Members({ scope, name, canManage, roles }) {
  const base = scope === 'workspace' ? `/workspaces/${enc(name)}` : `/projects/${enc(name)}`;
  const members = useLoad(base + '/members');
  const directory = useLoad(canManage ? '/directory' : null);
  const f = useForm({ user: '', role: roles[0] });
  const add = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      await put(`${base}/members/${enc(v.user.trim())}`, { role: v.role });
      f.setValues({ user: '', role: v.role });
      members.reload();
    });
  };
  return (
    <Card title={t('tenancy.members')}>
      <Table
        error={members.error}
        rows={members.data?.items}
        rowKey={(m) => m.userName}
        empty={t('tenancy.noMembers')}
        columns={[
          { title: t('users.name'), render: (m) => m.userName },
          { title: t('tenancy.role'), render: (m) => t('role.' + m.role) },
          { title: t('tenancy.source'), render: (m) => (m.source === 'oidc' ? t('tenancy.fromSSO') : t('tenancy.manual')) },
          {
            title: '',
            render: (m) =>
              canManage && (
                <ConfirmButton
                  class="link danger"
                  label={t('tenancy.remove')}
                  question={t('tenancy.removeQuestion', { user: m.userName, name })}
                  onConfirm={async () => {
                    await del(`${base}/members/${enc(m.userName)}`);
                    members.reload();
                  }}
                />
              ),
          },
        ]}
      />
      {canManage && (
        <form class="inline-form" onSubmit={add} noValidate>
          {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
          <Field label={t('users.name')} error={f.errors.user}>
            <input {...f.bind('user')} list="directory" data-testid="member-user" />
            <datalist id="directory">
              {(directory.data?.items || []).map((u) => (
                <option value={u.name}>{u.displayName}</option>
              ))}
            </datalist>
          </Field>
          <Field label={t('tenancy.role')} error={f.errors.role}>
            <select {...f.bind('role')} data-testid="member-role">
              {roles.map((r) => (
                <option value={r}>{t('role.' + r)}</option>
              ))}
            </select>
          </Field>
          <button type="submit" disabled={f.busy} data-testid="add-member">{t('tenancy.addMember')}</button>
        </form>
      )}
    </Card>
  );
}

export function WorkspacePage({ workspace }) {
  const session = useSession();
  const ws = useLoad(`/workspaces/${enc(workspace)}`);
  const projects = useLoad(`/workspaces/${enc(workspace)}/projects`);
  const admin = isPlatformAdmin(session);
  const manage = admin || session.access.workspaceAdmin.includes(workspace);
  if (ws.error) return <ErrorBox error={ws.error} />;
  return (
    <>
      <PageHeader title={`${t('tenancy.workspace')}: ${workspace}`} sub={ws.data?.description}>
        {manage && <CreateProject workspace={workspace} onDone={projects.reload} />}
        {admin && (
          <ConfirmButton
            label={t('tenancy.deleteWorkspace')}
            question={t('tenancy.deleteWorkspaceQuestion', { workspace })}
            onConfirm={async () => {
              await del(`/workspaces/${enc(workspace)}`);
              navigate('/projects');
            }}
          />
        )}
      </PageHeader>
      <Card title={t('tenancy.projects')}>
        <Table
          error={projects.error}
          rows={projects.data?.items}
          empty={t('tenancy.noProjects')}
          columns={[
            { title: t('tenancy.project'), render: (p) => <Link href={`/projects/${enc(p.name)}/workloads`}>{p.name}</Link> },
            { title: t('tenancy.role'), render: (p) => t('role.' + p.role) },
            { title: t('common.age'), render: (p) => age(p.createdAt) },
          ]}
        />
      </Card>
      <Members scope="workspace" name={workspace} canManage={manage} roles={['admin']} />
    </>
  );
}

export function ProjectMembers({ project }) {
  const session = useSession();
  const proj = useLoad(`/projects/${enc(project)}`);
  const role = roleIn(session, project);
  const wsManage = proj.data && (isPlatformAdmin(session) || session.access.workspaceAdmin.includes(proj.data.workspace));
  if (proj.error) return <ErrorBox error={proj.error} />;
  return (
    <>
      <PageHeader title={t('tenancy.projectMembers', { project })} sub={proj.data && t('tenancy.inWorkspace', { workspace: proj.data.workspace })}>
        {wsManage && (
          <ConfirmButton
            label={t('tenancy.deleteProject')}
            question={t('tenancy.deleteProjectQuestion', { project })}
            testid="delete-project"
            onConfirm={async () => {
              await del(`/projects/${enc(project)}`);
              await session.refresh();
              navigate('/projects');
            }}
          />
        )}
      </PageHeader>
      <p class="muted">{t('tenancy.rolesExplained')}</p>
      <Members scope="project" name={project} canManage={role === 'admin'} roles={['viewer', 'operator', 'admin']} />
    </>
  );
}
