// Live updates: one EventSource per scope ("" for the cluster, or a project)
// shared by every subscriber, delivering {kind, project, type, name, object}.
// After a reconnect (or when the server drops a slow client) subscribers get
// {type: 'RESYNC'} and reload their lists, since changes may have been missed.

const sources = new Map();

function open(scope) {
  const entry = { listeners: new Set(), es: null, ready: false };
  // Cluster-wide pages only need nodes and bundles; asking for just those
  // spares them every pod change of every project.
  const url = '/api/v1/watch' + (scope ? '?project=' + encodeURIComponent(scope) : '?kinds=nodes,bundles');
  const connect = () => {
    const es = new EventSource(url);
    entry.es = es;
    es.addEventListener('ready', () => {
      if (entry.ready) entry.listeners.forEach((fn) => fn({ type: 'RESYNC' }));
      entry.ready = true;
    });
    es.addEventListener('change', (ev) => {
      const change = JSON.parse(ev.data);
      entry.listeners.forEach((fn) => fn(change));
    });
    const restart = () => {
      es.close();
      if (entry.listeners.size > 0) setTimeout(connect, 2000);
    };
    es.addEventListener('reset', restart);
    es.addEventListener('end', restart);
  };
  connect();
  return entry;
}

export function subscribe(scope, fn) {
  let entry = sources.get(scope);
  if (!entry) {
    entry = open(scope);
    sources.set(scope, entry);
  }
  entry.listeners.add(fn);
  return () => {
    entry.listeners.delete(fn);
    if (entry.listeners.size === 0) {
      entry.es.close();
      sources.delete(scope);
    }
  };
}
