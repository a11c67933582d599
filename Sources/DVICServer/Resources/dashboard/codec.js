// The DVIC wire protocol (Spec/protocol.md, version 1) in plain JavaScript, for the
// dashboard and for node. Frames, varints, zigzag, strings, every message type of
// Spec/messages.json (whose tables are copied below; tests/dashboard-codec checks the
// copy against the Spec), the custom metricSample and logBatch layouts, and inflate
// through `DecompressionStream('deflate')`.
//
// Messages are plain objects in the Spec's JSON rendering (section 12): `{type, ...fields}`,
// enums by name, `bytes` as Uint8Array, structures as objects. Whole numbers are
// Numbers while they fit 2^53 and BigInts beyond.
//
// No dictionary frames come to a browser (the server never announces `zdict:` to it);
// a caller that has dictionaries passes them, with an inflate function that can use
// them, to the Decoder.

export const VERSION = 1;

export const LIMITS = Object.freeze({
  maxFrameLength: 1 << 20,
  maxPayloadLength: 4 << 20,
  maxMessageLength: 4 << 20,
  maxListCount: 10000,
  maxMetricID: 4095,
});

// ---- Spec/messages.json, as tables -------------------------------------------------

export const ENUMS = {
  Severity: { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5 },
  LogSource: { demo: 1, journald: 2, file: 3, container: 4, device: 5 },
  MetricKind: { gauge: 0, counter: 1 },
  RunState: { running: 1, exited: 2 },
  CommandMode: { shell: 1, argv: 2 },
  OutputStream: { stdout: 1, stderr: 2 },
  ExitReason: { exited: 0, signaled: 1, timedOut: 2, cancelled: 3, failedToStart: 4, lost: 5 },
  UpdateState: { downloading: 1, verified: 2, installing: 3, restarted: 4, rolledBack: 5, refused: 6, failed: 7 },
  NodeKind: { agent: 1, device: 2 },
  NodeState: { online: 1, offline: 2 },
  ProgressEvent: { started: 1, stdout: 2, stderr: 3, exit: 4 },
  JobState: { running: 1, succeeded: 2, failed: 3 },
};

export const STRUCTS = {
  ResumePoint: [['key', 'string'], ['lastSeq', 'varint']],
  MetricDescriptor: [['id', 'u32'], ['name', 'string'], ['unit', 'string'], ['scale', 'int'], ['kind', 'enum:MetricKind']],
  MetricValue: [['id', 'u32'], ['value', 'f64']],
  LogRecord: [['timestamp', 'time'], ['severity', 'enum:Severity'], ['text', 'string']],
  DemoProcess: [['key', 'string'], ['name', 'string'], ['pid', 'u32'], ['startTicks', 'varint'], ['state', 'enum:RunState'], ['changedAt', 'time']],
  ContainerInfo: [['id', 'string'], ['name', 'string'], ['image', 'string'], ['state', 'string'], ['cpuPermille', 'varint'], ['memoryBytes', 'varint']],
  MetricPoint: [['name', 'string'], ['timestamp', 'time'], ['value', 'f64']],
  StreamLogEntry: [['seq', 'varint'], ['timestamp', 'time'], ['severity', 'enum:Severity'], ['text', 'string']],
};

// [code, name, fields, custom]
export const MESSAGES = [
  [0x01, 'challenge', [['versions', 'varints'], ['nonce', 'bytes:32'], ['serverTime', 'time'], ['capabilities', 'strings']]],
  [0x02, 'hello', [['version', 'varint'], ['nodeID', 'string'], ['agentVersion', 'string'], ['capabilities', 'strings'], ['signature', 'bytes:64']]],
  [0x03, 'welcome', [['sessionID', 'string'], ['heartbeatSeconds', 'varint'], ['config', 'pairs'], ['resume', 'list:ResumePoint']]],
  [0x10, 'metricDescriptors', [['descriptors', 'list:MetricDescriptor']], true],
  [0x11, 'metricSample', [['timestamp', 'time'], ['values', 'list:MetricValue']], true],
  [0x12, 'inventory', [['attributes', 'pairs']]],
  [0x13, 'logStreamOpen', [['streamID', 'u32'], ['key', 'string'], ['source', 'enum:LogSource'], ['name', 'string'], ['path', 'string'], ['container', 'string'], ['pid', 'u32'], ['exe', 'string'], ['argv', 'strings'], ['user', 'string'], ['started', 'time']]],
  [0x14, 'logBatch', [['streamID', 'u32'], ['firstSeq', 'varint'], ['records', 'list:LogRecord']], true],
  [0x15, 'logAck', [['streamID', 'u32'], ['seq', 'varint']]],
  [0x16, 'logGap', [['streamID', 'u32'], ['firstSeq', 'varint'], ['count', 'varint']]],
  [0x17, 'processStates', [['processes', 'list:DemoProcess']]],
  [0x18, 'containerStates', [['containers', 'list:ContainerInfo']]],
  [0x19, 'logStreamClose', [['streamID', 'u32']]],
  [0x20, 'commandRequest', [['commandID', 'string'], ['mode', 'enum:CommandMode'], ['argv', 'strings'], ['timeoutMs', 'varint'], ['maxOutputBytes', 'varint']]],
  [0x21, 'commandOutput', [['commandID', 'string'], ['stream', 'enum:OutputStream'], ['data', 'bytes']]],
  [0x22, 'commandExit', [['commandID', 'string'], ['reason', 'enum:ExitReason'], ['exitCode', 'int'], ['signal', 'varint'], ['durationMs', 'varint'], ['message', 'string']]],
  [0x23, 'commandCancel', [['commandID', 'string']]],
  [0x28, 'ptyOpen', [['sessionID', 'string'], ['rows', 'u32'], ['cols', 'u32'], ['argv', 'strings'], ['env', 'pairs']]],
  [0x29, 'ptyInput', [['sessionID', 'string'], ['data', 'bytes']]],
  [0x2a, 'ptyOutput', [['sessionID', 'string'], ['data', 'bytes']]],
  [0x2b, 'ptyResize', [['sessionID', 'string'], ['rows', 'u32'], ['cols', 'u32']]],
  [0x2c, 'ptyClose', [['sessionID', 'string'], ['exitCode', 'int'], ['reason', 'string']]],
  [0x30, 'fileChunk', [['transferID', 'string'], ['offset', 'varint'], ['totalSize', 'varint'], ['data', 'bytes']]],
  [0x31, 'configUpdate', [['config', 'pairs']]],
  [0x32, 'updateOffer', [['version', 'string'], ['url', 'string'], ['size', 'varint'], ['sha256', 'bytes:32'], ['signature', 'bytes:64']]],
  [0x33, 'updateStatus', [['version', 'string'], ['state', 'enum:UpdateState'], ['message', 'string']]],
  [0x34, 'installRequest', [['jobID', 'string'], ['host', 'string'], ['port', 'varint'], ['user', 'string'], ['password', 'string'], ['hostKey', 'string'], ['command', 'string'], ['timeoutMs', 'varint']]],
  [0x35, 'installProgress', [['jobID', 'string'], ['step', 'string'], ['message', 'string'], ['hostKey', 'string'], ['failure', 'string'], ['finished', 'bool']]],
  [0x38, 'ping', [['nonce', 'varint']]],
  [0x39, 'pong', [['nonce', 'varint']]],
  [0x3f, 'error', [['code', 'string'], ['fatal', 'bool'], ['message', 'string']]],
  [0x40, 'streamAuth', [['token', 'string']]],
  [0x41, 'streamReady', [['role', 'string'], ['serverVersion', 'string']]],
  [0x42, 'subscribe', [['subscriptionID', 'u32'], ['kinds', 'varint'], ['nodes', 'strings'], ['tags', 'strings'], ['metrics', 'strings'], ['minSeverity', 'enum:Severity'], ['text', 'string']]],
  [0x43, 'unsubscribe', [['subscriptionID', 'u32']]],
  [0x44, 'nodeStatus', [['nodeID', 'string'], ['name', 'string'], ['kind', 'enum:NodeKind'], ['state', 'enum:NodeState'], ['lastSeen', 'time'], ['agentVersion', 'string'], ['tags', 'strings']]],
  [0x45, 'metricPoints', [['nodeID', 'string'], ['points', 'list:MetricPoint']]],
  [0x46, 'logEntries', [['nodeID', 'string'], ['streamKey', 'string'], ['entries', 'list:StreamLogEntry']]],
  [0x47, 'commandProgress', [['commandID', 'string'], ['nodeID', 'string'], ['event', 'enum:ProgressEvent'], ['data', 'bytes'], ['exitCode', 'int'], ['durationMs', 'varint'], ['done', 'varint'], ['total', 'varint']]],
  [0x48, 'ptyAttach', [['nodeID', 'string'], ['sessionID', 'string'], ['rows', 'u32'], ['cols', 'u32'], ['argv', 'strings']]],
  [0x49, 'ptyAttached', [['sessionID', 'string'], ['nodeID', 'string'], ['scrollback', 'bytes']]],
  [0x4a, 'demoStates', [['nodeID', 'string'], ['processes', 'list:DemoProcess']]],
  [0x4b, 'jobProgress', [['jobID', 'string'], ['kind', 'string'], ['step', 'string'], ['message', 'string'], ['done', 'varint'], ['total', 'varint'], ['state', 'enum:JobState']]],
];

/** Subscription kinds (a bit set, `subscribe.kinds`). */
export const KIND = Object.freeze({ status: 1, metrics: 2, logs: 4, commands: 8, processes: 16, jobs: 32 });

const BY_CODE = new Map();
const BY_NAME = new Map();
for (const [code, name, fields, custom] of MESSAGES) {
  const entry = { code, name, fields, custom: !!custom };
  BY_CODE.set(code, entry);
  BY_NAME.set(name, entry);
}
const ENUM_NAMES = {};
for (const [enumName, values] of Object.entries(ENUMS)) {
  const names = [];
  for (const [name, value] of Object.entries(values)) names[value] = name;
  ENUM_NAMES[enumName] = names;
}

export function messageCode(name) {
  const entry = BY_NAME.get(name);
  return entry ? entry.code : undefined;
}

// ---- Errors ------------------------------------------------------------------------

/** A decoding or encoding error; `code` is the Spec's name (section 8). */
export class ProtocolError extends Error {
  constructor(code, message) {
    super(message ? `${code}: ${message}` : code);
    this.name = 'ProtocolError';
    this.code = code;
  }
  /** Only an unknown message type lets the receiver carry on. */
  get recoverable() {
    return this.code === 'unknown_message_type';
  }
}

function fail(code, message) {
  throw new ProtocolError(code, message);
}

// ---- Reading -----------------------------------------------------------------------

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
const TWO_64 = 1n << 64n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function narrow(big) {
  return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big;
}

class Reader {
  constructor(bytes, limits) {
    this.bytes = bytes;
    this.index = 0;
    this.limits = limits;
  }

  get remaining() {
    return this.bytes.length - this.index;
  }

  byte() {
    if (this.index >= this.bytes.length) fail('truncated', 'a field runs past the payload');
    return this.bytes[this.index++];
  }

  bool() {
    const b = this.byte();
    if (b > 1) fail('invalid_value', `boolean byte ${b}`);
    return b === 1;
  }

  /** Unsigned LEB128, minimal, at most 64 bits: a Number, or a BigInt past 2^53. */
  varint() {
    const bytes = this.bytes;
    if (this.index >= bytes.length) fail('truncated', 'varint');
    const first = bytes[this.index];
    if (first < 0x80) {
      this.index++;
      return first;
    }
    let position = this.index;
    let shift = 0;
    let small = 0; // exact while shift < 49
    let big = null;
    for (;;) {
      if (position >= bytes.length) fail('truncated', 'varint');
      const b = bytes[position++];
      if (shift === 63 && b > 1) fail('bad_varint', 'overflows 64 bits');
      const group = b & 0x7f;
      if (big === null && shift <= 42) {
        small += group * 2 ** shift;
      } else {
        if (big === null) big = BigInt(small);
        big |= BigInt(group) << BigInt(shift);
      }
      if (b < 0x80) {
        if (b === 0) fail('bad_varint', 'not minimal');
        break;
      }
      shift += 7;
      if (shift > 63) fail('bad_varint', 'longer than 10 bytes');
    }
    this.index = position;
    return big === null ? small : narrow(big);
  }

  u32() {
    const v = this.varint();
    if (typeof v !== 'number' || v > 0xffffffff) fail('invalid_value', `${v} does not fit 32 bits`);
    return v;
  }

  /** Zigzag-decoded signed 64-bit. */
  int() {
    const raw = this.varint();
    if (typeof raw === 'number') {
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    return narrow(raw & 1n ? -((raw + 1n) >> 1n) : raw >> 1n);
  }

  intBig() {
    const v = this.int();
    return typeof v === 'bigint' ? v : BigInt(v);
  }

  f64() {
    if (this.remaining < 8) fail('truncated', 'f64');
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.index, 8);
    this.index += 8;
    return view.getFloat64(0, false);
  }

  length() {
    const v = this.varint();
    if (typeof v !== 'number' || v > this.remaining) fail('truncated', 'length past the payload');
    return v;
  }

  count() {
    const v = this.varint();
    if (typeof v !== 'number' || v > this.remaining || v > this.limits.maxListCount) {
      fail('count_too_large', `count ${v}`);
    }
    return v;
  }

  string() {
    const n = this.length();
    if (n === 0) return '';
    const slice = this.bytes.subarray(this.index, this.index + n);
    let text;
    try {
      text = utf8Decoder.decode(slice);
    } catch {
      fail('invalid_utf8');
    }
    this.index += n;
    return text;
  }

  rawBytes() {
    const n = this.length();
    const out = this.bytes.slice(this.index, this.index + n);
    this.index += n;
    return out;
  }

  value(type) {
    switch (type) {
      case 'u8': return this.byte();
      case 'bool': return this.bool();
      case 'varint': return this.varint();
      case 'u32': return this.u32();
      case 'int':
      case 'time': return this.int();
      case 'f64': return this.f64();
      case 'string': return this.string();
      case 'bytes': return this.rawBytes();
      case 'strings': {
        const n = this.count();
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.string();
        return out;
      }
      case 'varints': {
        const n = this.count();
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.varint();
        return out;
      }
      case 'pairs': {
        const n = this.count();
        const out = new Array(n);
        for (let i = 0; i < n; i++) {
          const key = this.string();
          out[i] = { key, value: this.string() };
        }
        return out;
      }
    }
    const colon = type.indexOf(':');
    const kind = type.slice(0, colon);
    const arg = type.slice(colon + 1);
    if (kind === 'bytes') {
      const b = this.rawBytes();
      if (b.length !== Number(arg)) fail('invalid_value', `must be ${arg} bytes, got ${b.length}`);
      return b;
    }
    if (kind === 'enum') {
      const raw = this.byte();
      const name = ENUM_NAMES[arg][raw];
      if (name === undefined) fail('invalid_value', `${arg} ${raw}`);
      return name;
    }
    if (kind === 'list') {
      const fields = STRUCTS[arg];
      const n = this.count();
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = this.fields(fields, {});
      return out;
    }
    throw new Error(`unknown field type ${type}`);
  }

  fields(fields, into) {
    for (const [name, type] of fields) into[name] = this.value(type);
    return into;
  }
}

// ---- Writing -----------------------------------------------------------------------

class Writer {
  constructor() {
    this.buffer = new Uint8Array(64);
    this.length = 0;
  }

  reserve(n) {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  byte(b) {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  bytes(array) {
    this.reserve(array.length);
    this.buffer.set(array, this.length);
    this.length += array.length;
  }

  varint(value) {
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 0) fail('invalid_value', `varint ${value}`);
      if (value <= 0x7fffffff) {
        this.reserve(5);
        while (value >= 0x80) {
          this.buffer[this.length++] = (value & 0x7f) | 0x80;
          value >>>= 7;
        }
        this.buffer[this.length++] = value;
        return;
      }
      value = BigInt(value);
    }
    if (value < 0n || value >= TWO_64) fail('invalid_value', `varint ${value}`);
    this.reserve(10);
    while (value >= 0x80n) {
      this.buffer[this.length++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buffer[this.length++] = Number(value);
  }

  int(value) {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) fail('invalid_value', `int ${value}`);
      if (Math.abs(value) < 2 ** 52) {
        this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
        return;
      }
      value = BigInt(value);
    }
    value = BigInt.asIntN(64, value);
    this.varint(value >= 0n ? value << 1n : (-value << 1n) - 1n);
  }

  f64(value) {
    this.reserve(8);
    new DataView(this.buffer.buffer, this.length, 8).setFloat64(0, value, false);
    this.length += 8;
  }

  string(text) {
    const encoded = utf8Encoder.encode(text);
    this.varint(encoded.length);
    this.bytes(encoded);
  }

  count(n) {
    if (n > LIMITS.maxListCount) fail('count_too_large', `count ${n}`);
    this.varint(n);
  }

  value(type, v) {
    switch (type) {
      case 'u8': return this.byte(v);
      case 'bool': return this.byte(v ? 1 : 0);
      case 'varint': return this.varint(v);
      case 'u32':
        if (!(v >= 0 && v <= 0xffffffff)) fail('invalid_value', `u32 ${v}`);
        return this.varint(v);
      case 'int':
      case 'time': return this.int(v);
      case 'f64': return this.f64(v);
      case 'string': return this.string(v);
      case 'bytes': {
        const b = toBytes(v);
        this.varint(b.length);
        return this.bytes(b);
      }
      case 'strings':
        this.count(v.length);
        for (const s of v) this.string(s);
        return;
      case 'varints':
        this.count(v.length);
        for (const n of v) this.varint(n);
        return;
      case 'pairs':
        this.count(v.length);
        for (const { key, value } of v) {
          this.string(key);
          this.string(value);
        }
        return;
    }
    const colon = type.indexOf(':');
    const kind = type.slice(0, colon);
    const arg = type.slice(colon + 1);
    if (kind === 'bytes') {
      const b = toBytes(v);
      if (b.length !== Number(arg)) fail('invalid_value', `must be ${arg} bytes`);
      this.varint(b.length);
      return this.bytes(b);
    }
    if (kind === 'enum') {
      const raw = ENUMS[arg][v];
      if (raw === undefined) fail('invalid_value', `${arg} ${v}`);
      return this.byte(raw);
    }
    if (kind === 'list') {
      const fields = STRUCTS[arg];
      this.count(v.length);
      for (const item of v) this.fields(fields, item);
      return;
    }
    throw new Error(`unknown field type ${type}`);
  }

  fields(fields, object) {
    for (const [name, type] of fields) this.value(type, object[name]);
  }

  result() {
    return this.buffer.slice(0, this.length);
  }
}

function toBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return utf8Encoder.encode(v);
  return Uint8Array.from(v || []);
}

// ---- Metric state (metricDescriptors / metricSample) -------------------------------

const POWERS = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** round(value × 10^scale), half away from zero, clamped to 64 bits (as the Swift codec). */
export function quantize(value, scale) {
  const scaled = scale >= 0 ? value * POWERS[scale] : value / POWERS[-scale];
  const rounded = scaled < 0 ? -Math.round(-scaled) : Math.round(scaled);
  // Math.round rounds .5 up; for positive values that is away from zero.
  if (rounded >= 9.2233720368547748e18) return INT64_MAX;
  if (rounded <= -9.2233720368547758e18) return INT64_MIN;
  return BigInt(rounded);
}

export function dequantize(quantized, scale) {
  const q = Number(quantized);
  return scale >= 0 ? q / POWERS[scale] : q * POWERS[-scale];
}

/** Per connection and direction: the scale and last quantized value of every metric id. */
class MetricState {
  constructor() {
    this.scales = new Map();
    this.previous = new Map();
  }
  describe(id, scale) {
    this.scales.set(id, scale);
    this.previous.set(id, 0n);
  }
}

function validateDescriptor(d) {
  if (!(d.id >= 0 && d.id <= LIMITS.maxMetricID)) fail('invalid_value', `metric id ${d.id} above ${LIMITS.maxMetricID}`);
  if (!(d.scale >= -9 && d.scale <= 9)) fail('invalid_value', `metric scale ${d.scale} outside -9...9`);
}

function readCustom(name, reader, metrics) {
  switch (name) {
    case 'metricDescriptors': {
      const descriptors = reader.value('list:MetricDescriptor');
      for (const d of descriptors) validateDescriptor(d);
      for (const d of descriptors) metrics.describe(d.id, d.scale);
      return { descriptors };
    }
    case 'metricSample': {
      const timestamp = reader.int();
      const runs = reader.count();
      const values = [];
      for (let r = 0; r < runs; r++) {
        const firstID = reader.u32();
        const count = reader.count();
        if (values.length + count > reader.limits.maxListCount) fail('count_too_large', 'values in a sample');
        for (let k = 0; k < count; k++) {
          const id = firstID + k;
          const scale = metrics.scales.get(id);
          if (id > 0xffffffff || scale === undefined) fail('unknown_metric', `metric id ${id}`);
          const delta = reader.intBig();
          const quantized = BigInt.asIntN(64, metrics.previous.get(id) + delta);
          metrics.previous.set(id, quantized);
          values.push({ id, value: dequantize(quantized, scale) });
        }
      }
      return { timestamp, values };
    }
    case 'logBatch': {
      const streamID = reader.u32();
      const firstSeq = reader.varint();
      const count = reader.count();
      if (count > 0 && BigInt(firstSeq) + BigInt(count - 1) >= TWO_64) {
        fail('invalid_value', 'sequence numbers of the batch overflow');
      }
      const records = new Array(count);
      let timestamp = 0n;
      let small = true;
      let ts = 0;
      for (let i = 0; i < count; i++) {
        const delta = reader.int();
        if (small && typeof delta === 'number' && Math.abs(ts + delta) < 2 ** 53) {
          ts += delta;
        } else {
          if (small) timestamp = BigInt(ts);
          small = false;
          timestamp = BigInt.asIntN(64, timestamp + BigInt(delta));
        }
        const severity = reader.value('enum:Severity');
        const text = reader.string();
        records[i] = { timestamp: small ? ts : narrow(timestamp), severity, text };
      }
      return { streamID, firstSeq, records };
    }
  }
  throw new Error(`no custom codec for ${name}`);
}

function writeCustom(name, message, writer, metrics) {
  switch (name) {
    case 'metricDescriptors': {
      for (const d of message.descriptors) validateDescriptor(d);
      writer.value('list:MetricDescriptor', message.descriptors);
      for (const d of message.descriptors) metrics.describe(d.id, d.scale);
      return;
    }
    case 'metricSample': {
      for (const v of message.values) {
        if (!metrics.scales.has(v.id)) fail('unknown_metric', `metric id ${v.id}`);
      }
      const finite = message.values.filter((v) => Number.isFinite(v.value));
      if (finite.length > LIMITS.maxListCount) fail('count_too_large', 'values in a sample');
      writer.int(message.timestamp);
      const runs = [];
      let start = 0;
      for (let i = 1; i < finite.length; i++) {
        if (finite[i].id !== ((finite[i - 1].id + 1) >>> 0)) {
          runs.push([start, i]);
          start = i;
        }
      }
      if (finite.length) runs.push([start, finite.length]);
      writer.varint(runs.length);
      for (const [from, to] of runs) {
        writer.varint(finite[from].id);
        writer.varint(to - from);
        for (let i = from; i < to; i++) {
          const { id, value } = finite[i];
          const quantized = quantize(value, metrics.scales.get(id));
          writer.int(BigInt.asIntN(64, quantized - metrics.previous.get(id)));
          metrics.previous.set(id, quantized);
        }
      }
      return;
    }
    case 'logBatch': {
      writer.varint(message.streamID);
      writer.varint(message.firstSeq);
      writer.count(message.records.length);
      let previous = 0n;
      for (const record of message.records) {
        const t = BigInt(record.timestamp);
        writer.int(BigInt.asIntN(64, t - previous));
        previous = t;
        writer.value('enum:Severity', record.severity);
        writer.string(record.text);
      }
      return;
    }
  }
  throw new Error(`no custom codec for ${name}`);
}

// ---- Inflate -----------------------------------------------------------------------

/**
 * Inflates one zlib stream (RFC 1950) with `DecompressionStream('deflate')`, stopping as
 * soon as the output would pass `limit`. Corrupt, truncated or trailing input is
 * `inflate_failed`; too much output is `payload_too_large`.
 */
export async function inflate(bytes, limit = LIMITS.maxPayloadLength) {
  if (typeof DecompressionStream === 'undefined') fail('inflate_failed', 'this browser has no DecompressionStream');
  const stream = new DecompressionStream('deflate');
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        reader.cancel().catch(() => {});
        fail('payload_too_large', `inflates past ${limit} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    fail('inflate_failed', String(error && error.message ? error.message : error));
  }
  const out = chunks.length === 1 ? chunks[0] : concat(chunks);
  // Some implementations (node's) stop at the end of the zlib stream and ignore what
  // follows it; the Spec refuses trailing bytes. The stream's last four bytes are the
  // Adler-32 of its output, so anything appended shows as a mismatch.
  if (bytes.length < 6 || adler32(out) !== readUint32BE(bytes, bytes.length - 4)) {
    fail('inflate_failed', 'bytes after the end of the zlib stream');
  }
  return out;
}

function readUint32BE(bytes, offset) {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
}

export function adler32(bytes) {
  let a = 1;
  let b = 0;
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const end = Math.min(i + 3800, n); // keeps b below 2^53 between reductions
    for (; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Deflates into one zlib stream with `CompressionStream('deflate')`. */
export async function deflate(bytes) {
  const stream = new CompressionStream('deflate');
  const writer = stream.writable.getWriter();
  writer.write(bytes);
  writer.close();
  const buffer = await new Response(stream.readable).arrayBuffer();
  return new Uint8Array(buffer);
}

// ---- Frames ------------------------------------------------------------------------

function parseFlags(byte) {
  const version = byte >> 4;
  if (version !== VERSION) fail('unsupported_version', `version ${version}`);
  if (byte & 0x08) fail('reserved_flags', 'reserved bit set');
  const dictionaryID = (byte >> 1) & 0x03;
  const deflated = (byte & 0x01) === 1;
  if (dictionaryID !== 0 && !deflated) fail('reserved_flags', 'dictionary without deflate');
  return { dictionaryID, deflated };
}

/**
 * Decodes WebSocket binary messages of whole frames, one connection direction at a
 * time (it keeps the metric delta state).
 *
 *   const decoder = new Decoder();
 *   const { messages, skipped, error } = await decoder.decodeMessage(bytes);
 *
 * `skipped` holds the recoverable `unknown_message_type` errors (those frames are
 * passed over); `error` the fatal one that ended decoding, after which the
 * connection is to be closed. `messages` are the ones decoded before it.
 */
export class Decoder {
  /**
   * @param {object} [options]
   * @param {object} [options.limits]
   * @param {Object<number, Uint8Array>} [options.dictionaries] preset dictionaries by id
   * @param {(bytes: Uint8Array, limit: number, dictionary?: Uint8Array) => Promise<Uint8Array>|Uint8Array} [options.inflate]
   */
  constructor(options = {}) {
    this.limits = { ...LIMITS, ...(options.limits || {}) };
    this.dictionaries = options.dictionaries || {};
    this.inflateFn = options.inflate || ((bytes, limit) => inflate(bytes, limit));
    this.metrics = new MetricState();
  }

  async decodeMessage(input) {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    const messages = [];
    const skipped = [];
    try {
      if (bytes.length > this.limits.maxMessageLength) fail('frame_too_large', `message of ${bytes.length} bytes`);
      let offset = 0;
      while (offset < bytes.length) {
        if (bytes.length - offset < 4) fail('incomplete_message', 'a frame header is cut off');
        const length = readUint32BE(bytes, offset);
        if (length < 2) fail('frame_too_short', `length ${length}`);
        if (length > this.limits.maxFrameLength) fail('frame_too_large', `length ${length}`);
        if (bytes.length - offset - 4 < length) fail('incomplete_message', 'a frame is cut off');
        const flagsByte = bytes[offset + 4];
        const typeByte = bytes[offset + 5];
        let payload = bytes.subarray(offset + 6, offset + 4 + length);
        offset += 4 + length;
        try {
          const flags = parseFlags(flagsByte);
          const entry = BY_CODE.get(typeByte);
          if (!entry) fail('unknown_message_type', `type 0x${typeByte.toString(16)}`);
          if (flags.deflated) {
            let dictionary;
            if (flags.dictionaryID !== 0) {
              dictionary = this.dictionaries[flags.dictionaryID];
              if (!dictionary) fail('unknown_dictionary', `dictionary ${flags.dictionaryID}`);
            }
            payload = await this.inflateFn(payload, this.limits.maxPayloadLength, dictionary);
          }
          messages.push(this.read(entry, payload));
        } catch (error) {
          if (error instanceof ProtocolError && error.recoverable) {
            skipped.push(error);
            continue;
          }
          throw error;
        }
      }
      return { messages, skipped, error: null };
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return { messages, skipped, error };
    }
  }

  read(entry, payload) {
    const reader = new Reader(payload, this.limits);
    const message = { type: entry.name };
    if (entry.custom) return Object.assign(message, readCustom(entry.name, reader, this.metrics));
    // Bytes after the last known field are a later revision's: ignored (section 4).
    return reader.fields(entry.fields, message);
  }
}

/**
 * Encodes messages into frames. One encoder per connection direction (metric state).
 * `encode` never deflates (a receiver accepts both forms); `encodeDeflated` deflates
 * payloads of `threshold` bytes or more when that is smaller, as the Swift encoder does.
 */
export class Encoder {
  constructor() {
    this.metrics = new MetricState();
  }

  payload(message) {
    const entry = BY_NAME.get(message.type);
    if (!entry) throw new ProtocolError('unknown_message_type', message.type);
    const writer = new Writer();
    if (entry.custom) writeCustom(entry.name, message, writer, this.metrics);
    else writer.fields(entry.fields, message);
    return { entry, payload: writer.result() };
  }

  static frame(code, flags, payload) {
    const length = payload.length + 2;
    if (length > LIMITS.maxFrameLength) fail('frame_too_large', `length ${length}`);
    const out = new Uint8Array(4 + length);
    new DataView(out.buffer).setUint32(0, length, false);
    out[4] = flags;
    out[5] = code;
    out.set(payload, 6);
    return out;
  }

  /** One frame per message, uncompressed, concatenated (one WebSocket message). */
  encode(messages) {
    const list = Array.isArray(messages) ? messages : [messages];
    const frames = list.map((m) => {
      const { entry, payload } = this.payload(m);
      return Encoder.frame(entry.code, VERSION << 4, payload);
    });
    return concat(frames);
  }

  async encodeDeflated(messages, threshold = 128) {
    const list = Array.isArray(messages) ? messages : [messages];
    const frames = [];
    for (const m of list) {
      const { entry, payload } = this.payload(m);
      if (payload.length >= threshold) {
        const packed = await deflate(payload);
        if (packed.length < payload.length) {
          frames.push(Encoder.frame(entry.code, (VERSION << 4) | 1, packed));
          continue;
        }
      }
      frames.push(Encoder.frame(entry.code, VERSION << 4, payload));
    }
    return concat(frames);
  }
}

function concat(parts) {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// ---- Helpers -----------------------------------------------------------------------

export function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export const SEVERITIES = Object.keys(ENUMS.Severity);
