'use strict';
// Tests of dvic-log with node:test. Run: cd libraries/node && node --test

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const LIB = path.resolve(__dirname, '..');
// Each test picks its directory and cap; nothing comes from the caller's environment.
delete process.env.DVIC_LOG_DIR;
delete process.env.DVIC_LOG_MAX_BYTES;
const dvic = require(LIB);

const RECORD = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)(?: ([\s\S]*))?$/;
const NOTICE = /^dvic_log: cannot write (.+): (.+); logging to stderr$/;

const tempDirs = [];
function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dvic-node-test-'));
  tempDirs.push(dir);
  return dir;
}
test.after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function unescape(text) {
  return text.replace(/\\([\\nr])/g, (_, c) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

function logFiles(dir) {
  return fs.readdirSync(dir).filter((n) => n.startsWith('dvic_log_')).sort().map((n) => path.join(dir, n));
}

function readLog(file) {
  const data = fs.readFileSync(file, 'utf8');
  assert.ok(data.endsWith('\n'), 'a file ends with LF');
  const lines = data.slice(0, -1).split('\n');
  const header = JSON.parse(lines[0]);
  const records = lines.slice(1).map((line) => {
    const m = RECORD.exec(line);
    assert.ok(m, `not a record: ${line.slice(0, 200)}`);
    return { ts: m[1], level: m[2], message: unescape(m[3] || ''), raw: line };
  });
  return { header, records };
}

function withEnv(vars, fn) {
  const saved = {};
  for (const key of Object.keys(vars)) {
    saved[key] = process.env[key];
    if (vars[key] === undefined) delete process.env[key];
    else process.env[key] = vars[key];
  }
  try {
    return fn();
  } finally {
    for (const key of Object.keys(saved)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

function runNode(code, { env = {}, shellPrefix = '' } = {}) {
  const script = `const dvic = require(${JSON.stringify(LIB)});\n${code}`;
  const args = shellPrefix
    ? ['bash', ['-c', `${shellPrefix} exec "$0" -e "$1"`, process.execPath, script]]
    : [process.execPath, ['-e', script]];
  return spawnSync(args[0], args[1], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000 });
}

// -- file and header ---------------------------------------------------------------------

test('file name, directory and mode', () => {
  const dir = tempDir();
  const old = process.umask(0o022);
  const log = withEnv({ DVIC_LOG_DIR: dir }, () => dvic.open('camera-demo'));
  process.umask(old);
  assert.equal(path.dirname(log.path), dir);
  log.close();
  const [file] = logFiles(dir);
  assert.match(path.basename(file), /^dvic_log_[A-Za-z0-9]{16}$/);
  assert.equal(fs.statSync(file).mode & 0o777, 0o644);
});

test('header', () => {
  const dir = tempDir();
  const log = dvic.open('camera-demo', { dir });
  const token = log.token;
  log.close();
  const [file] = logFiles(dir);
  assert.equal(path.basename(file), `dvic_log_${token}`);
  const raw = fs.readFileSync(file, 'utf8');
  assert.equal(raw.indexOf('\n'), raw.length - 1, 'the header is one line');
  const { header, records } = readLog(file);
  assert.deepEqual(records, []);
  assert.equal(header.dvic_log, 1);
  assert.equal(header.pid, process.pid);
  assert.equal(header.exe, fs.realpathSync(process.execPath));
  const cmdline = fs.readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1);
  assert.deepEqual(header.argv, cmdline);
  assert.equal(header.user, os.userInfo().username);
  assert.equal(header.name, 'camera-demo');
  assert.match(header.started, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.equal(header.lib, `node/${dvic.VERSION}`);
  assert.equal(header.prev, undefined);
  assert.deepEqual(Object.keys(header), ['dvic_log', 'pid', 'exe', 'argv', 'user', 'name', 'started', 'lib']);
});

test('odd names stay one JSON line; empty name means the program name', () => {
  const dir = tempDir();
  dvic.open('odd "name"\nwith newline é \ud800', { dir }).close();
  dvic.open('', { dir }).close();
  const names = logFiles(dir).map((f) => readLog(f).header.name).sort();
  assert.deepEqual(names, ['odd "name"\nwith newline é \ufffd', path.basename(process.argv[1]).replace(/\.js$/, '')].sort());
});

test('empty DVIC_LOG_DIR means /tmp', () => {
  const log = withEnv({ DVIC_LOG_DIR: '' }, () => dvic.open('tmp-default'));
  try {
    assert.equal(path.dirname(log.path), '/tmp');
  } finally {
    const file = log.path;
    log.close();
    fs.unlinkSync(file);
  }
});

// -- records ------------------------------------------------------------------------------

test('levels, record form and formatting', () => {
  const dir = tempDir();
  const log = dvic.open('levels', { dir });
  log.trace('t');
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  log.fatal('f');
  log.log('warning', 'w2');
  log.log('critical', 'c');
  log.info('fps=%d name=%s', 30, 'cam');
  log.info('100% literal');
  log.info({ a: 1 });
  log.info('');
  log.info();
  log.close();
  const { records } = readLog(logFiles(dir)[0]);
  assert.deepEqual(records.map((r) => [r.level, r.message]), [
    ['TRACE', 't'], ['DEBUG', 'd'], ['INFO', 'i'], ['WARN', 'w'], ['ERROR', 'e'], ['FATAL', 'f'],
    ['WARN', 'w2'], ['FATAL', 'c'], ['INFO', 'fps=30 name=cam'], ['INFO', '100% literal'],
    ['INFO', '{ a: 1 }'], ['INFO', ''], ['INFO', ''],
  ]);
  assert.ok(records[11].raw.endsWith(' INFO '), 'the space before an empty message is written');
});

test('escaping', () => {
  const cases = [
    ['first line\nsecond line', 'first line\\nsecond line'],
    ['C:\\demo\\n.cfg', 'C:\\\\demo\\\\n.cfg'],
    ['trailing backslash \\', 'trailing backslash \\\\'],
    ['carriage\rreturn and\ttab', 'carriage\\rreturn and\ttab'],
    ['unicode: café 日本語 🚀', 'unicode: café 日本語 🚀'],
    ['\\n\\r\\\\', '\\\\n\\\\r\\\\\\\\'],
    ['quote " and nul \0', 'quote " and nul \0'],
  ];
  const dir = tempDir();
  const log = dvic.open('escaping', { dir });
  for (const [message] of cases) log.info(message);
  log.close();
  const { records } = readLog(logFiles(dir)[0]);
  cases.forEach(([message, encoded], i) => {
    assert.equal(records[i].raw.slice(30), encoded);
    assert.equal(records[i].message, message);
  });
});

test('each record is one write: other appenders never land inside a record', () => {
  const dir = tempDir();
  // JavaScript runs on one thread, so the concurrency to survive is other processes
  // appending to the same file at the same time; O_APPEND keeps each write() whole.
  const log = dvic.open('shared', { dir });
  const file = log.path;
  const children = [];
  const { spawn } = require('node:child_process');
  for (let n = 0; n < 4; n++) {
    const code = `
      const fs = require('node:fs');
      const fd = fs.openSync(${JSON.stringify(file)}, 'a');
      for (let i = 0; i < 500; i++) fs.writeSync(fd, Buffer.from('2026-01-01T00:00:00.000Z INFO child ${n} record ' + i + ' ' + 'x'.repeat(i % 97) + '\\n'));`;
    children.push(new Promise((resolve) => spawn(process.execPath, ['-e', code]).on('exit', resolve)));
  }
  for (let i = 0; i < 2000; i++) log.info(`parent record ${i} ${'y'.repeat(i % 89)}`);
  return Promise.all(children).then(() => {
    log.close();
    const { records } = readLog(file);
    assert.equal(records.length, 4000);
    const next = {};
    for (const r of records) {
      const m = /^(child \d|parent) record (\d+) [xy]*$/.exec(r.message);
      assert.ok(m, r.message);
      assert.equal(Number(m[2]), next[m[1]] || 0);
      next[m[1]] = Number(m[2]) + 1;
    }
  });
});

// -- rotation -------------------------------------------------------------------------------

function chain(dir) {
  const files = new Map(logFiles(dir).map((f) => [path.basename(f).slice(9), { file: f, ...readLog(f) }]));
  const firsts = [...files.values()].filter((f) => f.header.prev === undefined);
  assert.equal(firsts.length, 1);
  const byPrev = new Map([...files.entries()].filter(([, f]) => f.header.prev).map(([t, f]) => [f.header.prev, t]));
  const out = [firsts[0]];
  for (let t = byPrev.get(path.basename(firsts[0].file).slice(9)); t; t = byPrev.get(t)) out.push(files.get(t));
  assert.equal(out.length, files.size);
  return out;
}

test('rotation (DVIC_LOG_MAX_BYTES)', () => {
  const dir = tempDir();
  const log = withEnv({ DVIC_LOG_MAX_BYTES: '2000' }, () => dvic.open('rotating', { dir }));
  for (let i = 0; i < 300; i++) log.info(`record ${String(i).padStart(3, '0')}`);
  log.close();
  const files = chain(dir);
  assert.ok(files.length > 5);
  const messages = [];
  for (const f of files) {
    assert.ok(fs.statSync(f.file).size <= 2000);
    assert.ok(f.records.length > 0);
    assert.equal(f.header.started, files[0].header.started);
    assert.equal(f.header.name, 'rotating');
    messages.push(...f.records.map((r) => r.message));
  }
  assert.deepEqual(messages, Array.from({ length: 300 }, (_, i) => `record ${String(i).padStart(3, '0')}`));
});

test('a record bigger than the cap gets a file of its own', () => {
  const dir = tempDir();
  const log = dvic.open('big', { dir, maxBytes: 1000 });
  log.info('small');
  log.info('y'.repeat(5000));
  log.info('after');
  log.close();
  assert.deepEqual(chain(dir).map((f) => f.records.map((r) => r.message)), [['small'], ['y'.repeat(5000)], ['after']]);
});

test('DVIC_LOG_MAX_BYTES parsing', () => {
  for (const [raw, expected] of [['', 16777216], ['junk', 16777216], ['-5', 16777216], ['0', 16777216], ['4096', 4096]]) {
    const dir = tempDir();
    const log = withEnv({ DVIC_LOG_MAX_BYTES: raw }, () => dvic.open('m', { dir }));
    assert.equal(log.maxBytes, expected);
    log.close();
  }
});

// -- never crash the demo --------------------------------------------------------------------

test('a missing directory falls back to stderr, with one notice', () => {
  const missing = path.join(tempDir(), 'does', 'not', 'exist');
  const r = runNode(`const log = dvic.open('fallback'); console.log(log.path); log.info('one'); log.error('two\\nlines'); log.close();`,
    { env: { DVIC_LOG_DIR: missing } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'null');
  const err = r.stderr.trimEnd().split('\n');
  const m = NOTICE.exec(err[0]);
  assert.ok(m, err[0]);
  assert.ok(m[1].startsWith(`${missing}/dvic_log_`));
  assert.equal(m[2], 'No such file or directory');
  assert.match(err[1], /^\S{24} INFO one$/);
  assert.match(err[2], /^\S{24} ERROR two\\nlines$/);
  assert.equal(err.length, 3);
});

test('a directory that is a file falls back to stderr', () => {
  const file = path.join(tempDir(), 'plain-file');
  fs.writeFileSync(file, '');
  const r = runNode(`const log = dvic.open('fallback'); log.warn('still here');`, { env: { DVIC_LOG_DIR: file } });
  assert.equal(r.status, 0, r.stderr);
  const err = r.stderr.trimEnd().split('\n');
  assert.equal(NOTICE.exec(err[0])[2], 'Not a directory');
  assert.match(err[1], / WARN still here$/);
});

test('a read-only directory falls back to stderr', () => {
  // EACCES; root may write anywhere, so as root the child runs as nobody.
  const ro = tempDir();
  fs.chmodSync(ro, 0o555);
  const asNobody = process.geteuid() === 0 ? { uid: 65534, gid: 65534 } : {};
  const script = `const dvic = require(${JSON.stringify(LIB)}); const log = dvic.open('read-only', { dir: ${JSON.stringify(ro)} }); log.info('kept'); log.close();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000, cwd: '/', ...asNobody });
  fs.chmodSync(ro, 0o755);
  assert.equal(r.status, 0, r.stderr);
  const err = r.stderr.trimEnd().split('\n');
  assert.equal(NOTICE.exec(err[0])[2], 'Permission denied');
  assert.match(err[1], / INFO kept$/);
  assert.equal(err.length, 2);
  assert.deepEqual(logFiles(ro), []);
});

test('a write error (file size limit) falls back to stderr', () => {
  const dir = tempDir();
  // ulimit -f counts 1024-byte blocks; SIGXFSZ ignored so write() fails with EFBIG.
  const r = runNode(`const log = dvic.open('efbig'); for (let i = 0; i < 100; i++) log.info('record ' + String(i).padStart(3, '0') + ' ' + 'z'.repeat(60)); log.close(); console.log('survived');`,
    { env: { DVIC_LOG_DIR: dir }, shellPrefix: "trap '' XFSZ; ulimit -f 4;" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'survived');
  const notices = r.stderr.split('\n').filter((l) => l.startsWith('dvic_log:'));
  assert.equal(notices.length, 1);
  assert.equal(NOTICE.exec(notices[0])[2], 'File too large');
  assert.match(r.stderr, / INFO record 099 z{60}\n$/);
  assert.equal(logFiles(dir).length, 1);
});

test('logging after close goes to stderr without a notice', () => {
  const dir = tempDir();
  const r = runNode(`const log = dvic.open('closed'); log.info('in file'); log.close(); log.close(); log.info('after close');`,
    { env: { DVIC_LOG_DIR: dir } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^\S{24} INFO after close\n$/);
  assert.deepEqual(readLog(logFiles(dir)[0]).records.map((x) => x.message), ['in file']);
});

// -- console hook -----------------------------------------------------------------------------

test('console hook maps methods to levels and tees', () => {
  const dir = tempDir();
  const r = runNode(`
    const log = dvic.open('console', { console: true });
    console.log('plain %s', 'log');
    console.info('info');
    console.debug('debug');
    console.warn('warn');
    console.error('error', 42);
    log.close();                       // restores the console
    console.log('not logged');
    const unhook = dvic.open('quiet').hookConsole({ tee: false });
    console.log('silent');
    unhook();`, { env: { DVIC_LOG_DIR: dir } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'plain log\ninfo\ndebug\nnot logged\n');
  assert.equal(r.stderr, 'warn\nerror 42\n');
  const byName = Object.fromEntries(logFiles(dir).map((f) => readLog(f)).map((l) => [l.header.name, l.records]));
  assert.deepEqual(byName.console.map((x) => [x.level, x.message]), [
    ['INFO', 'plain log'], ['INFO', 'info'], ['DEBUG', 'debug'], ['WARN', 'warn'], ['ERROR', 'error 42'],
  ]);
  assert.deepEqual(byName.quiet.map((x) => [x.level, x.message]), [['INFO', 'silent']]);
});

test('version matches package.json', () => {
  assert.equal(dvic.VERSION, require(path.join(LIB, 'package.json')).version);
});
