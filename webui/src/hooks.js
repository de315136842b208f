// Data hooks: one-shot loads and live lists kept current by the watch stream.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { get } from './api.js';
import { subscribe } from './live.js';

// useLoad fetches path and reloads when path changes or reload() is called.
export function useLoad(path) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const reload = useCallback(() => {
    if (!path) return;
    const n = ++seq.current;
    get(path)
      .then((data) => n === seq.current && setState({ data, error: null, loading: false }))
      .catch((error) => n === seq.current && setState((s) => ({ data: s.data, error, loading: false })));
  }, [path]);
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    reload();
  }, [reload]);
  return { ...state, reload };
}

function keyOf(o) {
  return (o.kind ? o.kind + '/' : '') + (o.namespace ? o.namespace + '/' : '') + o.name;
}

// useLiveList loads {items} from path and applies live changes of the given
// kinds (in scope: a project, or "" for cluster-wide objects).
export function useLiveList(path, { scope = '', kinds, accept } = {}) {
  const { data, error, loading, reload } = useLoad(path);
  const [items, setItems] = useState(null);
  useEffect(() => setItems(data ? data.items : null), [data]);
  const kindsKey = (kinds || []).join(',');
  useEffect(() => {
    if (!path) return undefined;
    return subscribe(scope, (ch) => {
      if (ch.type === 'RESYNC') return reload();
      if (kinds && !kinds.includes(ch.kind)) return;
      if (accept && !accept(ch)) return;
      setItems((list) => {
        if (!list) return list;
        const key = ch.object ? keyOf(ch.object) : null;
        const idx = list.findIndex((o) => (key ? keyOf(o) === key : o.name === ch.name && (!o.kind || o.kind === ch.kind)));
        if (ch.type === 'DELETED') return idx < 0 ? list : list.filter((_, i) => i !== idx);
        if (!ch.object) return list;
        if (idx < 0) return [...list, ch.object].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
        const next = list.slice();
        next[idx] = ch.object;
        return next;
      });
    });
  }, [path, scope, kindsKey]);
  return { items, error, loading, reload };
}

// useLiveReload calls reload (debounced) whenever a matching change arrives.
export function useLiveReload(scope, accept, reload, deps = []) {
  useEffect(() => {
    let timer = null;
    const unsub = subscribe(scope, (ch) => {
      if (ch.type !== 'RESYNC' && !accept(ch)) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 250);
    });
    return () => {
      clearTimeout(timer);
      unsub();
    };
  }, [scope, reload, ...deps]);
}
