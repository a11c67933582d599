'use strict';
// Writes DVIC demo log files (Spec/logfile.md in the dvic-monitoring repository).
//
//   const dvic = require('dvic-log');
//   const log = dvic.open('camera-demo');
//   log.info('ready');
//
// Every record is one fs.writeSync() on a descriptor opened with 'ax'
// (O_CREAT|O_EXCL|O_WRONLY|O_APPEND). Nothing here throws because of the file:
// when it cannot be written, one notice goes to stderr and the records follow it.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');

const VERSION = require('./package.json').version;
const LEVELS = Object.freeze(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const CREATE_TRIES = 100;
const ARGV_BUDGET = 32 * 1024;

function timestamp(date = new Date()) {
  return date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 0000-9999
}

function escape(message) {
  return message.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
}

function formatRecord(level, message, date) {
  return Buffer.from(`${timestamp(date)} ${level} ${escape(message)}\n`, 'utf8');
}

function newToken() {
  let token = '';
  for (let i = 0; i < 16; i++) token += TOKEN_ALPHABET[crypto.randomInt(TOKEN_ALPHABET.length)];
  return token;
}

function envMaxBytes() {
  const raw = process.env.DVIC_LOG_MAX_BYTES || '';
  if (!/^[0-9]+$/.test(raw)) return DEFAULT_MAX_BYTES;
  const value = Number(raw);
  return value > 0 && Number.isSafeInteger(value) ? value : DEFAULT_MAX_BYTES;
}

// The system's text for an error ("No such file or directory"), from Node's message
// "ENOENT: no such file or directory, open '/x'".
function reason(err) {
  const m = /^[A-Z0-9_]+: (.*?), \w+(?: '.*')?$/s.exec((err && err.message) || '');
  const text = m ? m[1] : String((err && err.message) || err);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function writeAll(fd, buffer) {
  let offset = 0;
  while (offset < buffer.length) {
    const n = fs.writeSync(fd, buffer, offset, buffer.length - offset);
    if (n <= 0) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    offset += n;
  }
}

function writeStderr(buffer) {
  try {
    writeAll(2, buffer);
  } catch (_) {
    // nowhere left to say it
  }
}

// -- process facts -------------------------------------------------------------------

function programName() {
  const script = process.argv[1];
  const base = script ? path.basename(script).replace(/\.(c|m)?js$/, '') : '';
  return base || 'node';
}

function cmdline() {
  try {
    const raw = fs.readFileSync('/proc/self/cmdline');
    const items = raw.toString('utf8').split('\0');
    if (items.length && items[items.length - 1] === '') items.pop();
    return items;
  } catch (_) {
    return [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
  }
}

function argvForHeader() {
  const kept = [];
  let total = 0;
  for (const item of cmdline()) {
    total += Buffer.byteLength(item, 'utf8');
    if (total > ARGV_BUDGET) break;
    kept.push(item);
  }
  return kept;
}

function exe() {
  try {
    return fs.readlinkSync('/proc/self/exe');
  } catch (_) {
    return process.execPath || '';
  }
}

function user() {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch (_) {
    // no passwd entry
  }
  return String(uid);
}

// Lone UTF-16 surrogates cannot be written as UTF-8: U+FFFD instead.
function wellFormed(text) {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function headerHead(name, started) {
  return [
    '{"dvic_log":1',
    `"pid":${process.pid}`,
    `"exe":${JSON.stringify(exe())}`,
    `"argv":${JSON.stringify(argvForHeader())}`,
    `"user":${JSON.stringify(user())}`,
    `"name":${JSON.stringify(wellFormed(name))}`,
    `"started":"${started}"`,
    `"lib":"node/${VERSION}"`,
  ].join(',');
}

// -- the log -------------------------------------------------------------------------

class Logger {
  /**
   * Use dvic.open(name, options) rather than this constructor.
   * options: { dir, maxBytes, console } (console: true hooks the console, see hookConsole).
   */
  constructor(name, options = {}) {
    this.name = name ? String(name) : programName();
    this.dir = options.dir || process.env.DVIC_LOG_DIR || '/tmp';
    this.maxBytes = options.maxBytes > 0 ? options.maxBytes : envMaxBytes();
    this.started = timestamp();
    this._header = headerHead(this.name, this.started);
    this._fd = -1;
    this._path = null;
    this._token = null;
    this._size = 0;
    this._records = 0;
    this._failed = false;
    this._unhook = null;
    this._openFile(null);
    if (options.console) this.hookConsole(options.console === true ? {} : options.console);
  }

  /** Path of the file being written, or null when logging to stderr. */
  get path() {
    return this._fd >= 0 ? this._path : null;
  }

  /** Token of the current file, or null when logging to stderr. */
  get token() {
    return this._fd >= 0 ? this._token : null;
  }

  trace(...args) { this._emit('TRACE', args); }
  debug(...args) { this._emit('DEBUG', args); }
  info(...args) { this._emit('INFO', args); }
  warn(...args) { this._emit('WARN', args); }
  error(...args) { this._emit('ERROR', args); }
  /** Logs at FATAL; does not exit. */
  fatal(...args) { this._emit('FATAL', args); }

  /** log('warn', ...args): a level name, any case ('warning' and 'critical' too). */
  log(level, ...args) {
    const upper = String(level).toUpperCase();
    const name = upper === 'WARNING' ? 'WARN' : upper === 'CRITICAL' ? 'FATAL' : upper;
    this._emit(LEVELS.includes(name) ? name : 'INFO', args);
  }

  /**
   * Sends console.log/info (INFO), debug (DEBUG), trace (TRACE), warn (WARN) and error
   * (ERROR) into this log. With { tee: true } (the default) the console still prints.
   * Returns a function that restores the console; close() restores it too.
   */
  hookConsole({ tee = true } = {}) {
    if (this._unhook) return this._unhook;
    const methods = { log: 'INFO', info: 'INFO', debug: 'DEBUG', trace: 'TRACE', warn: 'WARN', error: 'ERROR' };
    const saved = {};
    for (const [method, level] of Object.entries(methods)) {
      const original = console[method];
      saved[method] = original;
      console[method] = (...args) => {
        this._emit(level, args);
        if (tee) original.apply(console, args);
      };
    }
    this._unhook = () => {
      for (const [method, original] of Object.entries(saved)) console[method] = original;
      this._unhook = null;
    };
    return this._unhook;
  }

  /** Closes the file (and unhooks the console). Later records go to stderr. */
  close() {
    if (this._unhook) this._unhook();
    this._closeFd();
  }

  // -- internals -----------------------------------------------------------------------

  _emit(level, args) {
    let message;
    try {
      message = args.length === 1 && typeof args[0] === 'string' ? args[0] : util.format(...args);
    } catch (err) {
      message = `(dvic-log: cannot format message: ${err && err.message})`;
    }
    // Node runs JavaScript on one thread, so there is nothing to lock: the record is
    // formatted and written before any other code runs.
    const record = formatRecord(level, message);
    if (this._fd >= 0) {
      if (this._records > 0 && this._size + record.length > this.maxBytes) this._rotate();
      if (this._fd >= 0) {
        try {
          writeAll(this._fd, record);
          this._size += record.length;
          this._records += 1;
          return;
        } catch (err) {
          this._fail(this._path, err);
        }
      }
    }
    writeStderr(record);
  }

  _openFile(prev) {
    let lastError = null;
    let attempted = null;
    for (let i = 0; i < CREATE_TRIES; i++) {
      const token = newToken();
      attempted = path.join(this.dir, `dvic_log_${token}`);
      let fd;
      try {
        fd = fs.openSync(attempted, 'ax', 0o644);
      } catch (err) {
        lastError = err;
        if (err.code === 'EEXIST') continue;
        break;
      }
      this._fd = fd;
      this._path = attempted;
      this._token = token;
      const header = Buffer.from(`${this._header}${prev ? `,"prev":"${prev}"` : ''}}\n`, 'utf8');
      try {
        writeAll(fd, header);
      } catch (err) {
        this._fail(attempted, err);
        return;
      }
      this._size = header.length;
      this._records = 0;
      return;
    }
    this._fail(attempted, lastError);
  }

  _rotate() {
    const oldFd = this._fd;
    const oldToken = this._token;
    this._fd = -1;
    this._openFile(oldToken);
    try {
      fs.closeSync(oldFd);
    } catch (_) {
      // already gone
    }
  }

  _fail(file, err) {
    this._closeFd();
    if (!this._failed) {
      this._failed = true;
      writeStderr(Buffer.from(`dvic_log: cannot write ${file}: ${reason(err)}; logging to stderr\n`, 'utf8'));
    }
  }

  _closeFd() {
    if (this._fd >= 0) {
      const fd = this._fd;
      this._fd = -1;
      try {
        fs.closeSync(fd);
      } catch (_) {
        // already gone
      }
    }
  }
}

/**
 * Opens a new log file and returns its Logger. Never throws because of the file system.
 * options: { dir, maxBytes, console }; dir and maxBytes override DVIC_LOG_DIR and
 * DVIC_LOG_MAX_BYTES.
 */
function open(name, options) {
  return new Logger(name, options);
}

module.exports = {
  open,
  Logger,
  LEVELS,
  DEFAULT_MAX_BYTES,
  VERSION,
  // exposed for tests and other tools
  escape,
  timestamp,
};
