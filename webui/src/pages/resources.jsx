// Services, ingresses, config maps, secrets and volume claims of a project.
import { useEffect, useState } from 'preact/hooks';
import { del, enc, post } from '../api.js';
import { age } from '../format.js';
import { useLiveList } from '../hooks.js';
import { t } from '../i18n.js';
import { Link } from '../router.jsx';
import { canWrite, roleIn, useSession } from '../session.js';
import { Card, ConfirmButton, ErrorBox, Modal, PageHeader, Status, Table } from '../ui.jsx';

const columns = {
  services: () => [
    { title: t('services.type'), render: (s) => s.type },
    { title: t('services.clusterIP'), class: 'mono', render: (s) => s.clusterIP },
    { title: t('services.ports'), class: 'mono', render: (s) => s.ports.map((p) => `${p.port}${p.nodePort ? ':' + p.nodePort : ''}→${p.targetPort}/${p.protocol}`).join(', ') },
    { title: t('services.external'), class: 'mono', render: (s) => (s.external || []).join(', ') || '–' },
  ],
  ingresses: () => [
    { title: t('ingresses.class'), render: (i) => i.class || '–' },
    { title: t('ingresses.rules'), class: 'mono', render: (i) => i.rules.map((r) => `${r.host || '*'}${r.path} → ${r.service}:${r.port}`).join('\n') },
    { title: t('ingresses.tls'), render: (i) => (i.tlsHosts || []).join(', ') || '–' },
    { title: t('ingresses.address'), render: (i) => (i.address || []).join(', ') || '–' },
  ],
  configmaps: () => [
    { title: t('configmaps.keys'), render: (c) => <KeyValues data={c.data} binary={c.binaryKeys} /> },
  ],
  secrets: (reveal) => [
    { title: t('secrets.type'), render: (s) => s.type },
    { title: t('secrets.keys'), class: 'mono', render: (s) => s.keys.map((k) => `${k}: ••••••`).join('\n') || '–' },
    { title: '', render: (s) => reveal && s.keys.length > 0 && <button class="link" onClick={() => reveal(s.name)} data-testid={`reveal-${s.name}`}>{t('secrets.reveal')}</button> },
  ],
  persistentvolumeclaims: () => [
    { title: t('common.status'), render: (p) => <Status value={p.status} /> },
    { title: t('pvcs.capacity'), render: (p) => p.capacity || p.requested || '–' },
    { title: t('pvcs.storageClass'), render: (p) => p.storageClass || '–' },
    { title: t('pvcs.accessModes'), render: (p) => p.accessModes.join(', ') },
    { title: t('pvcs.volume'), class: 'mono', render: (p) => p.volume || '–' },
  ],
};

function KeyValues({ data, binary }) {
  const [open, setOpen] = useState(false);
  const keys = Object.keys(data);
  if (keys.length === 0 && !(binary || []).length) return '–';
  return (
    <div>
      <button class="link" onClick={() => setOpen(!open)}>{t('configmaps.count', { n: keys.length + (binary || []).length })}</button>
      {open && (
        <dl class="kv mono">
          {keys.map((k) => (
            <>
              <dt>{k}</dt>
              <dd><pre>{data[k]}</pre></dd>
            </>
          ))}
          {(binary || []).map((k) => (
            <>
              <dt>{k}</dt>
              <dd class="muted">{t('configmaps.binary')}</dd>
            </>
          ))}
        </dl>
      )}
    </div>
  );
}

function Revealed({ project, name, onClose }) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    post(`/projects/${enc(project)}/secrets/${enc(name)}/reveal`)
      .then((d) => setState({ data: d.data, error: null }))
      .catch((error) => setState({ data: null, error }));
  }, [project, name]);
  return (
    <Modal title={t('secrets.revealedTitle', { name })} onClose={onClose}>
      <p class="muted">{t('secrets.audited')}</p>
      <ErrorBox error={state.error} />
      {state.data && (
        <dl class="kv mono" data-testid="secret-values">
          {Object.entries(state.data).map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd><pre>{v.value}</pre>{v.base64 && <span class="muted">{t('secrets.base64')}</span>}</dd>
            </>
          ))}
        </dl>
      )}
    </Modal>
  );
}

export function Resources({ project, kind }) {
  const session = useSession();
  const role = roleIn(session, project);
  const list = useLiveList(`/projects/${enc(project)}/resources/${kind}`, { scope: project, kinds: [kind] });
  const [revealing, setRevealing] = useState(null);
  if (!columns[kind]) return <ErrorBox error={{ message: t('common.notFound') }} />;
  const write = canWrite(role);
  const cols = [
    { title: t('common.name'), render: (o) => <strong>{o.name}</strong> },
    ...columns[kind](write ? setRevealing : null),
    { title: t('common.age'), render: (o) => age(o.createdAt) },
    {
      title: '',
      render: (o) =>
        write && (
          <ConfirmButton class="link danger" label={t('common.delete')} testid={`delete-${o.name}`}
            question={t('resources.deleteQuestion', { kind: t('kind.' + kind), name: o.name })}
            onConfirm={() => del(`/projects/${enc(project)}/resources/${kind}/${enc(o.name)}`)} />
        ),
    },
  ];
  return (
    <>
      <PageHeader title={t('kind.' + kind)} sub={t('workloads.inProject', { project })}>
        {write && <Link class="button secondary" href={`/projects/${enc(project)}/workloads/new`}>{t('resources.createYAML')}</Link>}
      </PageHeader>
      <Card>
        <Table rows={list.items} error={list.error} columns={cols} testid={kind} />
      </Card>
      {revealing && <Revealed project={project} name={revealing} onClose={() => setRevealing(null)} />}
    </>
  );
}
