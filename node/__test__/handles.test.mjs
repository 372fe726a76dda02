// Handles × worker threads × processes on one file. In this process, worker_threads open and close
// read-write and read-only handles and write through them while the main thread's long-lived handle
// writes too; at the same time python3's sqlite3 (another SQLite build) and, when installed, the
// sqlite3 shell write from other processes. No committed row may be lost, no call may fail with
// anything but `busy`, and (Linux) the long-lived handle's POSIX lock stays visible in /proc/locks:
// closing a descriptor of the file anywhere in the process would drop it (docs/connections.md).
// About 4 s. Runs under `node --test` and `bun test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { resonance, tempDir, packageDir } from './helpers.mjs';

const SECONDS = 4;

/** This process's POSIX lock lines on `file` in /proc/locks (null where there is no /proc/locks). */
function lockCount(file) {
  if (!existsSync('/proc/locks')) return null;
  const inode = String(statSync(file).ino);
  const pid = String(process.pid);
  const read = () =>
    readFileSync('/proc/locks', 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 6 && f[1] === 'POSIX' && f[4] === pid && f[5].split(':').pop() === inode)
      .length;
  // /proc/locks is read in chunks while other processes lock and unlock: re-read a zero.
  let n = read();
  for (let i = 0; i < 5 && n === 0; i++) n = read();
  return n;
}

/** Waits for a child process; resolves with [exit code, stdout]. */
function finished(child) {
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve([code, out, err])));
}

// A worker: opens a handle per round (read-write writes its own id, read-only reads "a-0"), closes
// it, and posts the ids it committed and any failure other than busy.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const resonance = require(workerData.packageDir);
const end = Date.now() + workerData.ms;
const committed = [];
const bad = [];
let i = 0;
while (Date.now() < end) {
  i++;
  try {
    if (workerData.readOnly) {
      const h = resonance.openSync(workerData.file, { readOnly: true });
      if (!h.getNodeSync('a-0')) bad.push('a-0 missing');
      h.close();
    } else {
      const h = resonance.openSync(workerData.file);
      const id = 'w' + workerData.k + '-' + i;
      h.upsertNode({ id });
      committed.push(id);
      h.close();
    }
  } catch (e) {
    if (e.code !== 'busy') bad.push(String(e.code) + ': ' + e.message);
  }
}
parentPort.postMessage({ committed, bad });
`;

test('worker_threads handles, python3 and the sqlite3 shell writing one file lose nothing', async () => {
  const dir = tempDir('resonance-handles-');
  const file = path.join(dir, 'shared.db');
  const a = resonance.openSync(file);
  a.upsertNode({ id: 'a-0' });
  const committed = new Set(['a-0']);

  const py = spawn('python3', [
    '-c',
    [
      'import sqlite3, sys, time',
      'c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)',
      'end = time.monotonic() + float(sys.argv[2])',
      'n = 0',
      'while time.monotonic() < end:',
      "    c.execute('INSERT INTO nodes (id) VALUES (?)', ('py-%d' % n,))",
      '    n += 1',
      'c.close()',
      'print(n)',
    ].join('\n'),
    file,
    String(SECONDS),
  ]);
  const pyDone = finished(py);
  const shellRows = 300;
  const haveShell = spawnSync('sqlite3', ['-version']).status === 0;
  let shellDone = null;
  if (haveShell) {
    const script = path.join(dir, 'shell.sql');
    let text = '.timeout 30000\n.bail on\n';
    for (let i = 0; i < shellRows; i++) text += `INSERT INTO nodes (id) VALUES ('sh-${i}');\n`;
    writeFileSync(script, text);
    const sh = spawn('sh', ['-c', 'exec sqlite3 "$1" < "$2"', 'sh', file, script]);
    shellDone = finished(sh);
  }

  const ms = SECONDS * 1000;
  const workers = [0, 1, 2].map(
    (k) =>
      new Promise((resolve, reject) => {
        const w = new Worker(workerSource, {
          eval: true,
          workerData: { packageDir, file, ms, k, readOnly: k === 2 },
        });
        w.on('message', resolve);
        w.on('error', reject);
      }),
  );

  // The main thread writes through its long-lived handle and samples its lock between writes.
  const bad = [];
  const end = Date.now() + ms;
  let i = 0;
  let samples = 0;
  while (Date.now() < end) {
    i++;
    try {
      a.upsertNode({ id: `a-${i}` });
      committed.add(`a-${i}`);
    } catch (e) {
      if (e.code !== 'busy') bad.push(`main: ${e.code}: ${e.message}`);
    }
    const n = lockCount(file);
    if (n !== null) {
      samples++;
      assert.ok(n >= 1, `the long-lived handle lost its lock on the file after ${samples} samples`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const r of await Promise.all(workers)) {
    bad.push(...r.bad);
    for (const id of r.committed) committed.add(id);
  }
  const [pyCode, pyOut, pyErr] = await pyDone;
  assert.equal(pyCode, 0, `python3 writer failed: ${pyErr}`);
  const pyRows = Number(pyOut.trim());
  if (shellDone) {
    const [code, , err] = await shellDone;
    assert.equal(code, 0, `sqlite3 shell failed: ${err}`);
  }
  assert.deepEqual(bad, []);
  a.close();

  const check = resonance.openSync(file);
  try {
    for (const id of committed) assert.ok(check.getNodeSync(id), `lost ${id}`);
    assert.ok(pyRows > 0, 'python3 committed nothing');
    for (let j = 0; j < pyRows; j++) assert.ok(check.getNodeSync(`py-${j}`), `lost py-${j}`);
    if (haveShell) for (let j = 0; j < shellRows; j++) assert.ok(check.getNodeSync(`sh-${j}`), `lost sh-${j}`);
    const h = await check.health();
    assert.equal(h.quickCheck, 'ok');
  } finally {
    check.close();
  }
});
