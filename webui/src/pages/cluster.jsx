// Overview and the cluster-wide pages (nodes, storage classes, namespaces).
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { bytes, age, percent } from '../format.js';
import { useLiveList, useLoad } from '../hooks.js';
import { t } from '../i18n.js';
import { Link } from '../router.jsx';
import { Card, Chart, ErrorBox, Loading, PageHeader, RangePicker, Status, Table } from '../ui.jsx';

// useCharts loads a chart endpoint for a range and refreshes it every
// scrape interval-ish; charts are history, so a slow refresh is fine.
export function useCharts(path, range) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    let stop = false;
    const load = () =>
      get(`${path}?range=${range}`)
        .then((data) => !stop && setState({ data, error: null }))
        .catch((error) => !stop && setState({ data: null, error }));
    load();
    const timer = setInterval(load, 30000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [path, range]);
  return state;
}

function nodeColumns() {
  return [
    { title: t('nodes.name'), render: (n) => <strong>{n.name}</strong> },
    { title: t('common.status'), render: (n) => <Status value={n.status} /> },
    { title: t('nodes.roles'), render: (n) => n.roles.join(', ') || '–' },
    { title: t('nodes.ip'), render: (n) => n.internalIP },
    { title: t('nodes.cpu'), render: (n) => n.cpu },
    { title: t('nodes.memory'), render: (n) => bytes(n.memoryBytes) },
    { title: t('nodes.pods'), render: (n) => `${n.pods} / ${n.podCapacity}` },
    { title: t('nodes.version'), render: (n) => n.kubeletVersion },
    { title: t('common.age'), render: (n) => age(n.createdAt) },
  ];
}

export function Overview() {
  const { data, error } = useLoad('/cluster/overview');
  const nodes = useLiveList('/cluster/nodes', { kinds: ['nodes'] });
  const [range, setRange] = useState('1h');
  const charts = useCharts('/cluster/metrics', range);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  const c = data.cluster;
  const podTotal = c ? Object.values(c.pods).reduce((a, b) => a + b, 0) : 0;
  const running = c ? c.pods.Running || 0 : 0;
  const s = charts.data?.series || {};
  return (
    <>
      <PageHeader title={t('overview.title')} />
      {data.unavailable.includes('cluster') && <div class="warn-box">{t('overview.clusterUnavailable')}</div>}
      <div class="stats">
        <Stat label={t('overview.nodes')} value={c ? `${c.nodesReady} / ${c.nodes}` : '–'} note={t('overview.ready')} testid="stat-nodes" />
        <Stat label={t('overview.pods')} value={c ? `${running} / ${podTotal}` : '–'} note={t('overview.running')} />
        <Stat label={t('overview.workloads')} value={c ? Object.values(c.workloads).reduce((a, b) => a + b, 0) : '–'} />
        <Stat
          label={t('overview.alerts')}
          value={data.alerts ? data.alerts.firing : '–'}
          note={data.alerts ? t('overview.firing') : t('overview.unavailable')}
          bad={data.alerts && data.alerts.firing > 0}
          href="/alerts"
        />
        <Stat
          label={t('overview.registry')}
          value={data.registry ? bytes(data.registry.bytes) : '–'}
          note={data.registry ? t('overview.registryNote', { repos: data.registry.repositories, tags: data.registry.tags }) : t('overview.unavailable')}
          href="/images"
        />
      </div>
      <Card title={t('overview.usage')} actions={<RangePicker value={range} onChange={setRange} />}>
        {!data.monitoring ? (
          <div class="muted pad">{t('overview.monitoringOff')}</div>
        ) : charts.error ? (
          <ErrorBox error={charts.error} />
        ) : (
          <div class="charts">
            <Chart title={t('overview.cpu')} series={charts.data && (s.cpu || [])} format={percent} testid="chart-cpu" />
            <Chart title={t('overview.memory')} series={charts.data && (s.memory || [])} format={percent} />
            <Chart title={t('overview.disk')} series={charts.data && (s.disk || [])} format={percent} />
          </div>
        )}
      </Card>
      <Card title={t('nodes.title')}>
        <Table columns={nodeColumns()} rows={nodes.items} error={nodes.error} testid="nodes" />
      </Card>
      <Card title={t('overview.versions')}>
        <dl class="kv">
          {Object.entries(data.versions).map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </>
          ))}
        </dl>
      </Card>
    </>
  );
}

function Stat({ label, value, note, bad, href, testid }) {
  const body = (
    <>
      <div class="stat-label">{label}</div>
      <div class={'stat-value' + (bad ? ' bad' : '')} data-testid={testid}>
        {value}
      </div>
      {note && <div class="stat-note">{note}</div>}
    </>
  );
  return <div class="stat card">{href ? <Link href={href}>{body}</Link> : body}</div>;
}

export function Nodes() {
  const nodes = useLiveList('/cluster/nodes', { kinds: ['nodes'] });
  const [open, setOpen] = useState(null);
  const columns = [
    ...nodeColumns(),
    { title: '', render: (n) => <button class="link" onClick={() => setOpen(open === n.name ? null : n.name)}>{t('common.details')}</button> },
  ];
  const node = nodes.items?.find((n) => n.name === open);
  return (
    <>
      <PageHeader title={t('nodes.title')} />
      <Card>
        <Table columns={columns} rows={nodes.items} error={nodes.error} />
      </Card>
      {node && (
        <Card title={node.name}>
          <dl class="kv">
            <dt>{t('nodes.os')}</dt>
            <dd>{node.osImage}</dd>
            <dt>{t('nodes.kernel')}</dt>
            <dd>{node.kernelVersion}</dd>
            <dt>{t('nodes.runtime')}</dt>
            <dd>{node.containerRuntime}</dd>
          </dl>
          <Table
            columns={[
              { title: t('nodes.condition'), render: (c) => c.type },
              { title: t('common.status'), render: (c) => c.status },
              { title: t('common.reason'), render: (c) => c.reason },
              { title: t('common.message'), render: (c) => c.message },
            ]}
            rows={node.conditions}
            rowKey={(c) => c.type}
          />
        </Card>
      )}
    </>
  );
}

export function StorageClasses() {
  const { data, error } = useLoad('/cluster/storageclasses');
  return (
    <>
      <PageHeader title={t('storage.title')} />
      <Card>
        <Table
          error={error}
          rows={data?.items}
          columns={[
            { title: t('common.name'), render: (s) => <strong>{s.name}{s.default && <span class="badge ok">{t('storage.default')}</span>}</strong> },
            { title: t('storage.provisioner'), render: (s) => s.provisioner },
            { title: t('storage.reclaim'), render: (s) => s.reclaimPolicy },
            { title: t('storage.binding'), render: (s) => s.volumeBindingMode },
            { title: t('storage.expansion'), render: (s) => (s.allowExpansion ? t('common.yes') : t('common.no')) },
            { title: t('common.age'), render: (s) => age(s.createdAt) },
          ]}
        />
      </Card>
    </>
  );
}

export function Namespaces() {
  const { data, error } = useLoad('/cluster/namespaces');
  return (
    <>
      <PageHeader title={t('namespaces.title')} sub={t('namespaces.sub')} />
      <Card>
        <Table
          error={error}
          rows={data?.items}
          columns={[
            { title: t('common.name'), render: (n) => (n.managed ? <Link href={`/projects/${n.name}/workloads`}>{n.name}</Link> : n.name) },
            { title: t('common.status'), render: (n) => <Status value={n.status} /> },
            { title: t('namespaces.workspace'), render: (n) => n.workspace || '–' },
            { title: t('nodes.pods'), render: (n) => n.pods },
          ]}
        />
      </Card>
    </>
  );
}
