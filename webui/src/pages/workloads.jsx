// Workloads: list, create (form or YAML), detail with actions, charts and
// logs; pods and events.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { del, enc, get, post } from '../api.js';
import { age, bytes, cores, count, dateTime, rate } from '../format.js';
import { useLiveList, useLiveReload, useLoad } from '../hooks.js';
import { t } from '../i18n.js';
import { Link, navigate } from '../router.jsx';
import { canWrite, roleIn, useSession } from '../session.js';
import { Card, Chart, ConfirmButton, ErrorBox, Field, Loading, Modal, PageHeader, RangePicker, Status, Table, Tabs, useForm } from '../ui.jsx';
import { useCharts } from './cluster.jsx';

const kinds = ['deployments', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'];

export function Workloads({ project }) {
  const session = useSession();
  const role = roleIn(session, project);
  const [kind, setKind] = useState('');
  const list = useLiveList(`/projects/${enc(project)}/workloads`, { scope: project, kinds });
  const rows = list.items && (kind ? list.items.filter((w) => w.kind === kind) : list.items);
  return (
    <>
      <PageHeader title={t('workloads.title')} sub={t('workloads.inProject', { project })}>
        {canWrite(role) && (
          <button onClick={() => navigate(`/projects/${enc(project)}/workloads/new`)} data-testid="new-workload">
            {t('workloads.new')}
          </button>
        )}
      </PageHeader>
      <Card>
        <Tabs tabs={[['', t('workloads.all')], ...kinds.map((k) => [k, t('kind.' + k)])]} active={kind} onChange={setKind} />
        <Table
          testid="workloads"
          error={list.error}
          rows={rows}
          rowKey={(w) => w.kind + '/' + w.name}
          empty={canWrite(role) ? t('workloads.emptyWriter') : t('workloads.empty')}
          columns={[
            { title: t('common.name'), render: (w) => <Link href={`/projects/${enc(project)}/workloads/${w.kind}/${enc(w.name)}`}>{w.name}</Link> },
            { title: t('workloads.kind'), render: (w) => t('kind.' + w.kind) },
            { title: t('common.status'), render: (w) => <Status value={w.status} /> },
            { title: t('workloads.ready'), render: (w) => (w.kind === 'cronjobs' ? w.schedule : `${w.ready} / ${w.desired}`) },
            { title: t('workloads.images'), class: 'mono', render: (w) => w.images.join(', ') },
            { title: t('common.age'), render: (w) => age(w.createdAt) },
          ]}
        />
      </Card>
    </>
  );
}

function parseEnv(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf('=');
      return i < 0 ? { name: l, value: '' } : { name: l.slice(0, i).trim(), value: l.slice(i + 1) };
    });
}

const sampleYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: example
data:
  greeting: hello
`;

export function CreateWorkload({ project }) {
  const [mode, setMode] = useState('form');
  const images = useLoad('/images');
  const f = useForm({ kind: 'deployments', name: '', image: '', replicas: '1', port: '', expose: '', env: '', cpuRequest: '', memoryRequest: '', cpuLimit: '', memoryLimit: '', schedule: '' });
  const y = useForm({ yaml: sampleYAML });
  const [applied, setApplied] = useState(null);
  const submitForm = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      const body = {
        kind: v.kind, name: v.name.trim(), image: v.image.trim(), port: v.port ? Number(v.port) : 0, expose: v.expose, env: parseEnv(v.env),
        cpuRequest: v.cpuRequest, memoryRequest: v.memoryRequest, cpuLimit: v.cpuLimit, memoryLimit: v.memoryLimit, schedule: v.schedule,
      };
      if (v.kind === 'deployments' || v.kind === 'statefulsets') body.replicas = v.replicas === '' ? 1 : Number(v.replicas);
      const w = await post(`/projects/${enc(project)}/workloads`, body);
      navigate(`/projects/${enc(project)}/workloads/${w.kind}/${enc(w.name)}`);
    });
  };
  const submitYAML = (e) => {
    e.preventDefault();
    y.submit(async (v) => setApplied((await post(`/projects/${enc(project)}/apply`, v)).items));
  };
  const envError = Object.entries(f.errors).find(([k]) => k.startsWith('env'));
  const imageOptions = (images.data?.items || []).map((i) => `${i.repository}:${i.tag}`);
  const kind = f.values.kind;
  return (
    <>
      <PageHeader title={t('create.title')} sub={t('workloads.inProject', { project })} />
      <Tabs tabs={[['form', t('create.form')], ['yaml', t('create.yaml')]]} active={mode} onChange={setMode} />
      {mode === 'form' ? (
        <Card>
          <form class="grid-form" onSubmit={submitForm} noValidate>
            {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
            <Field label={t('workloads.kind')} error={f.errors.kind}>
              <select {...f.bind('kind')} data-testid="kind">
                {kinds.map((k) => (
                  <option value={k}>{t('kind.' + k)}</option>
                ))}
              </select>
            </Field>
            <Field label={t('common.name')} error={f.errors.name} hint={t('create.nameHint')}>
              <input {...f.bind('name')} data-testid="name" />
            </Field>
            <Field label={t('create.image')} error={f.errors.image} hint={images.error ? t('create.imageNoRegistry') : t('create.imageHint')}>
              <input {...f.bind('image')} list="registry-images" data-testid="image" placeholder="docker.io/library/nginx:1.27" />
              <datalist id="registry-images">
                {imageOptions.map((o) => (
                  <option value={o} />
                ))}
              </datalist>
            </Field>
            {(kind === 'deployments' || kind === 'statefulsets') && (
              <Field label={t('create.replicas')} error={f.errors.replicas}>
                <input {...f.bind('replicas')} type="number" min="0" data-testid="replicas" />
              </Field>
            )}
            {kind === 'cronjobs' && (
              <Field label={t('create.schedule')} error={f.errors.schedule} hint={t('create.scheduleHint')}>
                <input {...f.bind('schedule')} data-testid="schedule" />
              </Field>
            )}
            <Field label={t('create.port')} error={f.errors.port} hint={t('create.portHint')}>
              <input {...f.bind('port')} type="number" data-testid="port" />
            </Field>
            {(kind === 'deployments' || kind === 'statefulsets' || kind === 'daemonsets') && (
              <Field label={t('create.expose')} error={f.errors.expose}>
                <select {...f.bind('expose')} data-testid="expose">
                  <option value="">{t('create.exposeNone')}</option>
                  <option value="ClusterIP">{t('create.exposeCluster')}</option>
                  <option value="NodePort">{t('create.exposeNode')}</option>
                </select>
              </Field>
            )}
            <Field label={t('create.env')} error={envError && envError[1]} hint={t('create.envHint')}>
              <textarea {...f.bind('env')} rows="3" class="mono" />
            </Field>
            <Field label={t('create.cpuRequest')} error={f.errors.cpuRequest}>
              <input {...f.bind('cpuRequest')} placeholder="100m" />
            </Field>
            <Field label={t('create.memoryRequest')} error={f.errors.memoryRequest}>
              <input {...f.bind('memoryRequest')} placeholder="128Mi" />
            </Field>
            <Field label={t('create.cpuLimit')} error={f.errors.cpuLimit}>
              <input {...f.bind('cpuLimit')} placeholder="1" />
            </Field>
            <Field label={t('create.memoryLimit')} error={f.errors.memoryLimit}>
              <input {...f.bind('memoryLimit')} placeholder="512Mi" />
            </Field>
            <div class="form-actions">
              <button type="button" class="secondary" onClick={() => history.back()}>{t('common.cancel')}</button>
              <button type="submit" disabled={f.busy} data-testid="create">{t('common.create')}</button>
            </div>
          </form>
        </Card>
      ) : (
        <Card>
          <form onSubmit={submitYAML} noValidate>
            <p class="muted">{t('create.yamlHint', { project })}</p>
            {y.error && <ErrorBox error={y.error} />}
            <Field label="YAML" error={y.errors.yaml}>
              <textarea {...y.bind('yaml')} rows="18" class="mono" spellcheck={false} data-testid="yaml" />
            </Field>
            {applied && (
              <div class="ok-box">
                {t('create.applied')}: {applied.map((a) => `${a.kind}/${a.name}`).join(', ')}
              </div>
            )}
            <div class="form-actions">
              <button type="submit" disabled={y.busy} data-testid="apply">{t('create.apply')}</button>
            </div>
          </form>
        </Card>
      )}
    </>
  );
}

function ScaleDialog({ w, project, onClose }) {
  const f = useForm({ replicas: String(w.desired) });
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      await post(`/projects/${enc(project)}/workloads/${w.kind}/${enc(w.name)}/scale`, { replicas: Number(v.replicas) });
      onClose();
    });
  };
  return (
    <Modal title={t('detail.scale')} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
        <Field label={t('create.replicas')} error={f.errors.replicas}>
          <input {...f.bind('replicas')} type="number" min="0" autofocus data-testid="scale-replicas" />
        </Field>
        <div class="form-actions">
          <button type="submit" disabled={f.busy} data-testid="scale-submit">{t('detail.scale')}</button>
        </div>
      </form>
    </Modal>
  );
}

function ImageDialog({ w, project, containers, onClose }) {
  const f = useForm({ container: containers[0]?.name || '', image: containers[0]?.image || '' });
  const images = useLoad('/images');
  const submit = (e) => {
    e.preventDefault();
    f.submit(async (v) => {
      await post(`/projects/${enc(project)}/workloads/${w.kind}/${enc(w.name)}/image`, v);
      onClose();
    });
  };
  return (
    <Modal title={t('detail.changeImage')} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        {f.error && !Object.keys(f.errors).length && <ErrorBox error={f.error} />}
        {containers.length > 1 && (
          <Field label={t('detail.container')} error={f.errors.container}>
            <select {...f.bind('container')}>
              {containers.map((c) => (
                <option value={c.name}>{c.name}</option>
              ))}
            </select>
          </Field>
        )}
        <Field label={t('create.image')} error={f.errors.image}>
          <input {...f.bind('image')} list="image-options" data-testid="new-image" />
          <datalist id="image-options">
            {(images.data?.items || []).map((i) => (
              <option value={`${i.repository}:${i.tag}`} />
            ))}
          </datalist>
        </Field>
        <div class="form-actions">
          <button type="submit" disabled={f.busy} data-testid="image-submit">{t('detail.update')}</button>
        </div>
      </form>
    </Modal>
  );
}

function WorkloadCharts({ project, kind, name }) {
  const [range, setRange] = useState('1h');
  const { data, error } = useCharts(`/projects/${enc(project)}/workloads/${kind}/${enc(name)}/metrics`, range);
  const s = data?.series || {};
  const net = data && [...(s.networkReceive || []).map((x) => ({ ...x, name: 'rx' })), ...(s.networkTransmit || []).map((x) => ({ ...x, name: 'tx' }))];
  return (
    <Card title={t('detail.monitoring')} actions={<RangePicker value={range} onChange={setRange} />}>
      {error ? (
        <ErrorBox error={error} />
      ) : (
        <div class="charts">
          <Chart title={t('detail.cpu')} series={data && (s.cpu || [])} format={cores} testid="chart-workload-cpu" />
          <Chart title={t('detail.memory')} series={data && (s.memory || [])} format={bytes} />
          <Chart title={t('detail.network')} series={net} format={rate} />
          <Chart title={t('detail.restarts')} series={data && (s.restarts || [])} format={count} />
        </div>
      )}
    </Card>
  );
}

function podColumns(project) {
  return [
    { title: t('common.name'), render: (p) => <Link href={`/projects/${enc(project)}/pods/${enc(p.name)}`}>{p.name}</Link> },
    { title: t('common.status'), render: (p) => <Status value={p.status} /> },
    { title: t('pods.ready'), render: (p) => p.ready },
    { title: t('pods.restarts'), render: (p) => p.restarts },
    { title: t('pods.node'), render: (p) => p.node || '–' },
    { title: t('pods.ip'), class: 'mono', render: (p) => p.ip || '–' },
    { title: t('common.age'), render: (p) => age(p.createdAt) },
  ];
}

function eventColumns() {
  return [
    { title: t('events.type'), render: (e) => <span class={e.type === 'Warning' ? 'badge bad' : 'badge muted'}>{e.type}</span> },
    { title: t('common.reason'), render: (e) => e.reason },
    { title: t('events.object'), class: 'mono', render: (e) => e.object },
    { title: t('common.message'), render: (e) => e.message },
    { title: t('events.count'), render: (e) => e.count },
    { title: t('events.lastSeen'), render: (e) => age(e.lastSeen) },
  ];
}

export function WorkloadDetail({ project, kind, name }) {
  const session = useSession();
  const role = roleIn(session, project);
  const path = `/projects/${enc(project)}/workloads/${kind}/${enc(name)}`;
  const { data: w, error, reload } = useLoad(path);
  const [dialog, setDialog] = useState(null);
  const [tab, setTab] = useState('pods');
  const [actionError, setActionError] = useState(null);
  const podNames = new Set((w?.pods || []).map((p) => p.name));
  useLiveReload(
    project,
    (ch) => (ch.kind === kind && ch.name === name) || (ch.kind === 'pods' && (podNames.has(ch.name) || ch.object?.owner?.name === name)) ||
      (ch.kind === 'events' && (ch.object?.object || '').includes(name)),
    reload,
    [kind, name, [...podNames].join(',')],
  );
  if (error) return <ErrorBox error={error} />;
  if (!w) return <Loading />;
  const act = (fn) => async () => {
    setActionError(null);
    try {
      await fn();
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const write = canWrite(role);
  return (
    <>
      <PageHeader title={w.name} sub={`${t('kindOne.' + w.kind)} · ${t('workloads.inProject', { project })}`}>
        {write && w.scalable && <button onClick={() => setDialog('scale')} data-testid="scale">{t('detail.scale')}</button>}
        {write && w.restartable && (
          <ConfirmButton class="secondary" label={t('detail.restart')} question={t('detail.restartQuestion', { name })} testid="restart"
            onConfirm={() => post(`${path}/restart`).then(reload)} />
        )}
        {write && w.kind !== 'jobs' && <button class="secondary" onClick={() => setDialog('image')} data-testid="change-image">{t('detail.changeImage')}</button>}
        {write && (
          <ConfirmButton label={t('common.delete')} question={t('detail.deleteQuestion', { name })} testid="delete-workload"
            onConfirm={async () => {
              await del(path);
              navigate(`/projects/${enc(project)}/workloads`);
            }} />
        )}
      </PageHeader>
      <ErrorBox error={actionError} />
      <div class="stats">
        <div class="stat card">
          <div class="stat-label">{t('common.status')}</div>
          <div class="stat-value"><Status value={w.status} /></div>
          {w.message && <div class="stat-note">{w.message}</div>}
        </div>
        <div class="stat card">
          <div class="stat-label">{t('workloads.ready')}</div>
          <div class="stat-value" data-testid="ready-count">{w.ready} / {w.desired}</div>
        </div>
        {w.revision > 0 && (
          <div class="stat card">
            <div class="stat-label">{t('detail.revision')}</div>
            <div class="stat-value" data-testid="revision">{w.revision}</div>
          </div>
        )}
        <div class="stat card wide">
          <div class="stat-label">{t('workloads.images')}</div>
          <div class="mono" data-testid="images">{w.containers.map((c) => `${c.name}: ${c.image}`).join('\n')}</div>
        </div>
      </div>
      <WorkloadCharts project={project} kind={kind} name={name} />
      <Card>
        <Tabs
          tabs={[['pods', t('detail.pods')], ['logs', t('detail.logs')], ...(w.kind === 'deployments' ? [['revisions', t('detail.revisions')]] : []), ['events', t('nav.events')]]}
          active={tab}
          onChange={setTab}
        />
        {tab === 'pods' && <Table rows={w.pods} columns={podColumns(project)} testid="pods" empty={t('detail.noPods')} />}
        {tab === 'logs' && (w.pods.length ? <LogViewer project={project} pods={w.pods} /> : <div class="empty">{t('detail.noPods')}</div>)}
        {tab === 'revisions' && (
          <Table
            testid="revisions"
            rows={w.revisions}
            rowKey={(r) => String(r.revision)}
            columns={[
              { title: t('detail.revision'), render: (r) => <span data-revision={r.revision}>{r.revision}{r.current && <span class="badge ok">{t('detail.current')}</span>}</span> },
              { title: t('workloads.images'), class: 'mono', render: (r) => r.images.join(', ') },
              { title: t('detail.created'), render: (r) => dateTime(r.createdAt) },
              {
                title: '',
                render: (r) =>
                  write && !r.current && (
                    <ConfirmButton class="secondary" label={t('detail.rollback')} testid={`rollback-${r.revision}`}
                      question={t('detail.rollbackQuestion', { name, revision: r.revision })}
                      onConfirm={() => post(`${path}/rollback`, { revision: r.revision }).then(reload)} />
                  ),
              },
            ]}
          />
        )}
        {tab === 'events' && <Table rows={w.events} columns={eventColumns()} rowKey={(e) => e.name} empty={t('events.none')} />}
      </Card>
      {dialog === 'scale' && <ScaleDialog w={w} project={project} onClose={() => { setDialog(null); reload(); }} />}
      {dialog === 'image' && <ImageDialog w={w} project={project} containers={w.containers} onClose={() => { setDialog(null); reload(); }} />}
    </>
  );
}

const maxLines = 5000;

// LogViewer streams a container's log with a keyword filter, pause and download.
export function LogViewer({ project, pods, fixedPod }) {
  const [pod, setPod] = useState(fixedPod || pods[0].name);
  const podInfo = pods.find((p) => p.name === pod) || pods[0];
  const [container, setContainer] = useState(podInfo.containers[0]?.name || '');
  const [filter, setFilter] = useState('');
  const [exact, setExact] = useState(false);
  const [lines, setLines] = useState([]);
  const [paused, setPaused] = useState(false);
  const [state, setState] = useState('connecting');
  const box = useRef(null);
  const pausedRef = useRef(false);
  pausedRef.current = paused;
  const query = `container=${enc(container)}&filter=${enc(filter)}&match=${exact ? 'exact' : ''}`;
  const base = `/api/v1/projects/${enc(project)}/pods/${enc(pod)}/logs`;
  useEffect(() => {
    setLines([]);
    setState('connecting');
    const timer = setTimeout(() => {
      const es = new EventSource(`${base}?follow=true&tail=500&${query}`);
      let buffer = [];
      let flush = null;
      es.addEventListener('line', (ev) => {
        buffer.push(JSON.parse(ev.data));
        setState('live');
        if (!flush)
          flush = setTimeout(() => {
            const add = buffer;
            buffer = [];
            flush = null;
            if (!pausedRef.current) setLines((l) => (l.length + add.length > maxLines ? [...l, ...add].slice(-maxLines) : [...l, ...add]));
          }, 100);
      });
      es.addEventListener('end', () => {
        setState('ended');
        es.close();
      });
      es.onerror = () => setState('reconnecting');
      es.onopen = () => setState('live');
      cleanup.current = () => {
        clearTimeout(flush);
        es.close();
      };
    }, 300);
    const cleanup = { current: () => {} };
    return () => {
      clearTimeout(timer);
      cleanup.current();
    };
  }, [base, query]);
  useEffect(() => {
    if (!paused && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, paused]);
  const highlight = (line) => {
    if (!filter) return line;
    const i = exact ? line.indexOf(filter) : line.toLowerCase().indexOf(filter.toLowerCase());
    if (i < 0) return line;
    return [line.slice(0, i), <mark>{line.slice(i, i + filter.length)}</mark>, line.slice(i + filter.length)];
  };
  return (
    <div class="logs">
      <div class="toolbar">
        {!fixedPod && (
          <select value={pod} onChange={(e) => setPod(e.currentTarget.value)} aria-label={t('detail.pod')} data-testid="log-pod">
            {pods.map((p) => (
              <option value={p.name}>{p.name}</option>
            ))}
          </select>
        )}
        {podInfo.containers.length > 1 && (
          <select value={container} onChange={(e) => setContainer(e.currentTarget.value)} aria-label={t('detail.container')}>
            {podInfo.containers.map((c) => (
              <option value={c.name}>{c.name}</option>
            ))}
          </select>
        )}
        <input type="search" placeholder={t('logs.filter')} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} data-testid="log-filter" />
        <label class="check">
          <input type="checkbox" checked={exact} onChange={(e) => setExact(e.currentTarget.checked)} /> {t('logs.exact')}
        </label>
        <button class="secondary" onClick={() => setPaused(!paused)}>{paused ? t('logs.resume') : t('logs.pause')}</button>
        <a class="button secondary" href={`${base}?download=true&${query}`} download data-testid="log-download">{t('logs.download')}</a>
        <span class="muted" data-testid="log-state">{t('logs.state.' + state)}</span>
      </div>
      <pre class="log-box" ref={box} data-testid="log-lines">
        {lines.length === 0 ? <span class="muted">{t('logs.empty')}</span> : lines.map((l) => <div>{highlight(l)}</div>)}
      </pre>
    </div>
  );
}

export function Pods({ project }) {
  const list = useLiveList(`/projects/${enc(project)}/pods`, { scope: project, kinds: ['pods'] });
  return (
    <>
      <PageHeader title={t('pods.title')} sub={t('workloads.inProject', { project })} />
      <Card>
        <Table
          rows={list.items}
          error={list.error}
          testid="pods"
          columns={[
            ...podColumns(project),
            { title: t('pods.owner'), render: (p) => (p.owner ? <Link href={`/projects/${enc(project)}/workloads/${p.owner.kind}/${enc(p.owner.name)}`}>{p.owner.name}</Link> : '–') },
          ]}
        />
      </Card>
    </>
  );
}

export function PodDetail({ project, name }) {
  const session = useSession();
  const path = `/projects/${enc(project)}/pods/${enc(name)}`;
  const { data: p, error, reload } = useLoad(path);
  const [tab, setTab] = useState('logs');
  useLiveReload(project, (ch) => ch.kind === 'pods' && ch.name === name, reload, [name]);
  if (error) return <ErrorBox error={error} />;
  if (!p) return <Loading />;
  return (
    <>
      <PageHeader title={p.name} sub={p.owner ? `${t('kindOne.' + p.owner.kind)} ${p.owner.name}` : t('pods.title')}>
        {canWrite(roleIn(session, project)) && (
          <ConfirmButton label={t('common.delete')} question={t('pods.deleteQuestion', { name })}
            onConfirm={async () => {
              await del(path);
              history.back();
            }} />
        )}
      </PageHeader>
      <Card>
        <dl class="kv">
          <dt>{t('common.status')}</dt>
          <dd><Status value={p.status} /></dd>
          <dt>{t('pods.node')}</dt>
          <dd>{p.node || '–'}</dd>
          <dt>{t('pods.ip')}</dt>
          <dd>{p.ip || '–'}</dd>
          <dt>{t('pods.restarts')}</dt>
          <dd>{p.restarts}</dd>
        </dl>
        <Table
          rows={p.containers}
          columns={[
            { title: t('detail.container'), render: (c) => c.name },
            { title: t('create.image'), class: 'mono', render: (c) => c.image },
            { title: t('common.status'), render: (c) => <Status value={c.reason || c.state} /> },
            { title: t('pods.ready'), render: (c) => (c.ready ? t('common.yes') : t('common.no')) },
            { title: t('pods.restarts'), render: (c) => c.restarts },
          ]}
        />
      </Card>
      <Card>
        <Tabs tabs={[['logs', t('detail.logs')], ['events', t('nav.events')]]} active={tab} onChange={setTab} />
        {tab === 'logs' ? <LogViewer project={project} pods={[p]} fixedPod={p.name} /> : <Table rows={p.events} columns={eventColumns()} rowKey={(e) => e.name} empty={t('events.none')} />}
      </Card>
    </>
  );
}

export function Events({ project }) {
  const list = useLiveList(`/projects/${enc(project)}/events`, { scope: project, kinds: ['events'] });
  const rows = list.items && [...list.items].sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : -1));
  return (
    <>
      <PageHeader title={t('events.title')} sub={t('workloads.inProject', { project })} />
      <Card>
        <Table rows={rows} error={list.error} columns={eventColumns()} empty={t('events.none')} />
      </Card>
    </>
  );
}
