// Images in the local registry, and offline bundle upload and history.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, del, enc, get, post } from '../api.js';
import { bytes, dateTime, shortDigest } from '../format.js';
import { useLiveList, useLoad } from '../hooks.js';
import { t } from '../i18n.js';
import { isPlatformAdmin, useSession } from '../session.js';
import { Card, ConfirmButton, Copy, ErrorBox, PageHeader, Status, Table } from '../ui.jsx';

export function Images() {
  const session = useSession();
  const admin = isPlatformAdmin(session);
  const { data, error, reload } = useLoad('/images');
  const [filter, setFilter] = useState('');
  const [gc, setGC] = useState(null);
  const items = (data?.items || []).filter((i) => !filter || `${i.repository}:${i.tag}`.includes(filter));
  const repos = {};
  for (const i of items) (repos[i.repository] = repos[i.repository] || []).push(i);
  return (
    <>
      <PageHeader title={t('images.title')} sub={t('images.sub')}>
        <input type="search" placeholder={t('images.filter')} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        {admin && (
          <ConfirmButton class="secondary" label={t('images.gc')} question={t('images.gcQuestion')} testid="gc"
            onConfirm={async () => {
              setGC(await post('/images/gc'));
              reload();
            }} />
        )}
      </PageHeader>
      <ErrorBox error={error} />
      {gc && <div class="ok-box">{t('images.gcDone', { blobs: gc.blobsDeleted, size: bytes(gc.bytesFreed) })}</div>}
      {data && items.length === 0 && <div class="empty">{t('images.none')}</div>}
      {Object.entries(repos).map(([repo, tags]) => (
        <Card title={<span class="mono">{repo}</span>} key={repo}>
          <Table
            testid={`repo-${repo}`}
            rows={tags}
            rowKey={(i) => i.tag + i.digest}
            columns={[
              { title: t('images.tag'), render: (i) => <strong class="mono">{i.tag || '–'}</strong> },
              { title: t('images.digest'), class: 'mono', render: (i) => <span title={i.digest}>{shortDigest(i.digest)} <Copy text={`${repo}@${i.digest}`} /></span> },
              { title: t('images.size'), render: (i) => bytes(i.size) },
              { title: t('images.platforms'), render: (i) => (i.platforms || []).join(', ') || '–' },
              { title: t('images.source'), render: (i) => i.source || '–' },
              {
                title: '',
                render: (i) =>
                  admin && (
                    <ConfirmButton class="link danger" label={t('common.delete')} question={t('images.deleteQuestion', { ref: `${repo}:${i.tag}` })}
                      onConfirm={async () => {
                        await del(`/images?ref=${enc(i.tag ? `${repo}:${i.tag}` : `${repo}@${i.digest}`)}`);
                        reload();
                      }} />
                  ),
              },
            ]}
          />
        </Card>
      ))}
    </>
  );
}

// Uploads are resumable: the upload id is remembered per file (name, size,
// modification time), and after a dropped connection the browser asks the
// server how much it has and continues from there.
const resumeKey = (file) => `outpost.upload.${file.name}.${file.size}.${file.lastModified}`;

async function uploadFile(file, allowUnsigned, onProgress, signal) {
  let up = null;
  const saved = localStorage.getItem(resumeKey(file));
  if (saved) {
    try {
      up = await get(`/bundles/uploads/${enc(saved)}`);
      if (up.state !== 'receiving') up = null;
    } catch {
      up = null;
    }
  }
  if (!up) {
    up = await post('/bundles/uploads', { fileName: file.name, size: file.size, allowUnsigned });
    localStorage.setItem(resumeKey(file), up.id);
  }
  let offset = up.received;
  let failures = 0;
  while (offset < file.size) {
    if (signal.aborted) throw new DOMException('aborted', 'AbortError');
    const end = Math.min(offset + up.chunkSize, file.size);
    try {
      const res = await api('PUT', `/bundles/uploads/${enc(up.id)}/chunk?offset=${offset}`, file.slice(offset, end), { signal });
      offset = res.received;
      failures = 0;
      onProgress({ id: up.id, received: offset, size: file.size });
    } catch (err) {
      if (err.code === 'offset_mismatch') {
        offset = Number(err.fields.offset);
        continue;
      }
      // Network trouble: wait a little and resume from what the server has.
      if ((err.status === 0 || err.status >= 500) && failures < 30) {
        failures++;
        onProgress({ id: up.id, received: offset, size: file.size, retrying: true });
        await new Promise((r) => setTimeout(r, Math.min(1000 * failures, 10000)));
        const cur = await get(`/bundles/uploads/${enc(up.id)}`).catch(() => null);
        if (cur) offset = cur.received;
        continue;
      }
      throw err;
    }
  }
  localStorage.removeItem(resumeKey(file));
  return up.id;
}

export function Bundles() {
  const history = useLiveList('/bundles/uploads', { kinds: ['bundles'] });
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const [allowUnsigned, setAllowUnsigned] = useState(false);
  const abort = useRef(null);
  useEffect(() => () => abort.current?.abort(), []);
  const start = async (file) => {
    setError(null);
    abort.current = new AbortController();
    try {
      await uploadFile(file, allowUnsigned, setProgress, abort.current.signal);
      history.reload();
    } catch (err) {
      if (err.name !== 'AbortError') setError(err);
    } finally {
      setProgress(null);
    }
  };
  return (
    <>
      <PageHeader title={t('bundles.title')} sub={t('bundles.sub')} />
      <Card title={t('bundles.upload')}>
        <p class="muted">{t('bundles.uploadHint')}</p>
        <label class="check">
          <input type="checkbox" checked={allowUnsigned} onChange={(e) => setAllowUnsigned(e.currentTarget.checked)} data-testid="allow-unsigned" />
          {t('bundles.allowUnsigned')}
        </label>
        <input type="file" data-testid="bundle-file" disabled={!!progress} onChange={(e) => e.currentTarget.files[0] && start(e.currentTarget.files[0])} />
        {progress && (
          <div class="progress-row">
            <progress max={progress.size} value={progress.received} data-testid="upload-progress" />
            <span>
              {bytes(progress.received)} / {bytes(progress.size)} {progress.retrying && <span class="muted">{t('bundles.retrying')}</span>}
            </span>
            <button class="secondary" onClick={() => abort.current.abort()}>{t('bundles.pause')}</button>
          </div>
        )}
        <ErrorBox error={error} />
      </Card>
      <Card title={t('bundles.history')}>
        <Table
          error={history.error}
          testid="bundles"
          rows={history.items}
          rowKey={(u) => u.id}
          empty={t('bundles.none')}
          columns={[
            { title: t('bundles.file'), render: (u) => <strong>{u.fileName}</strong> },
            { title: t('common.status'), render: (u) => <Status value={u.state} /> },
            {
              title: t('bundles.progress'),
              render: (u) =>
                u.state === 'importing' && u.progress ? (
                  <span>
                    {t('bundles.phase.' + u.progress.phase, {}, u.progress.phase)} <progress max={u.progress.total || 1} value={u.progress.done} /> {u.progress.item}
                  </span>
                ) : u.state === 'receiving' ? (
                  `${bytes(u.received)} / ${bytes(u.size)}`
                ) : (
                  bytes(u.size)
                ),
            },
            {
              title: t('bundles.result'),
              render: (u) =>
                u.result ? (
                  <span data-testid={`bundle-result-${u.fileName}`}>
                    {u.result.name} {u.result.version}: {t('bundles.images', { n: u.result.images.length })}
                    <div class="mono small">{u.result.images.join('\n')}</div>
                  </span>
                ) : (
                  <span class="field-error">{u.message}</span>
                ),
            },
            { title: t('bundles.by'), render: (u) => u.createdBy },
            { title: t('bundles.when'), render: (u) => dateTime(u.createdAt) },
            {
              title: '',
              render: (u) =>
                u.state === 'receiving' && (
                  <ConfirmButton class="link danger" label={t('common.cancel')} question={t('bundles.cancelQuestion', { file: u.fileName })}
                    onConfirm={async () => {
                      await del(`/bundles/uploads/${enc(u.id)}`);
                      history.reload();
                    }} />
                ),
            },
          ]}
        />
      </Card>
    </>
  );
}
