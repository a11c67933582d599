// The dashboard's codec.js against the Spec's own vectors (Spec/vectors/frames), the
// same ones the Swift codec is tested with:
//   - every valid vector decodes to its JSON messages;
//   - every invalid one ends with its error name (and what came before it);
//   - every canonical one encodes back byte for byte;
//   - the tables copied into codec.js are those of Spec/messages.json.
// Run: node --test tests/dashboard-codec/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const codec = await import(join(root, 'Sources/DVICServer/Resources/dashboard/codec.js'));
const { Decoder, Encoder, hexToBytes, bytesToHex, ENUMS, STRUCTS, MESSAGES, quantize, dequantize, inflate } = codec;

const vectorDir = join(root, 'Spec/vectors/frames');
const vectors = readdirSync(vectorDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(vectorDir, f), 'utf8')));
const dictionary1 = new Uint8Array(readFileSync(join(root, 'Spec/dictionaries/1.txt')));

// Browsers cannot inflate with a preset dictionary, so the dashboard never gets such
// frames; the codec takes dictionaries with an inflate function that can use them. Here
// node's zlib plays that part for the dictionary vectors.
function nodeInflate(bytes, limit, dictionary) {
  if (!dictionary) return inflate(bytes, limit);
  try {
    return new Uint8Array(inflateSync(bytes, { dictionary, maxOutputLength: limit }));
  } catch (error) {
    throw new codec.ProtocolError(error.code === 'ERR_BUFFER_TOO_LARGE' ? 'payload_too_large' : 'inflate_failed', error.message);
  }
}

function newDecoder() {
  return new Decoder({ dictionaries: { 1: dictionary1 }, inflate: nodeInflate });
}

// The Spec's JSON rendering: bytes as arrays of numbers.
function plain(value) {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

test('the vectors are there', () => {
  assert.ok(vectors.length >= 100, `only ${vectors.length} vectors`);
  assert.ok(vectors.some((v) => !v.error));
  assert.ok(vectors.some((v) => v.error));
});

for (const vector of vectors.filter((v) => !v.error)) {
  test(`decode ${vector.name}`, async () => {
    const result = await newDecoder().decodeMessage(hexToBytes(vector.hex));
    assert.equal(result.error, null, result.error && result.error.message);
    assert.deepEqual(result.skipped, []);
    assert.deepEqual(plain(result.messages), vector.messages);
  });
}

for (const vector of vectors.filter((v) => v.error)) {
  test(`refuse ${vector.name} with ${vector.error}`, async () => {
    const result = await newDecoder().decodeMessage(hexToBytes(vector.hex));
    const name = result.error ? result.error.code : result.skipped[0]?.code;
    assert.equal(name, vector.error, vector.description);
    if (!result.error) assert.equal(vector.error, 'unknown_message_type', 'only unknown types are recoverable');
    assert.deepEqual(plain(result.messages), vector.messages);
  });
}

for (const vector of vectors.filter((v) => v.canonical)) {
  test(`encode ${vector.name} byte for byte`, () => {
    const encoder = new Encoder();
    assert.equal(bytesToHex(encoder.encode(vector.messages)), vector.hex);
  });
}

test('the browser path refuses dictionary frames it cannot inflate', async () => {
  const vector = vectors.find((v) => v.name === 'valid-logBatch-dictionary');
  const result = await new Decoder().decodeMessage(hexToBytes(vector.hex));
  assert.equal(result.error?.code, 'unknown_dictionary');
});

test('deflated encoding round-trips and stays a valid zlib stream', async () => {
  for (const vector of vectors.filter((v) => !v.error && v.canonical)) {
    const bytes = await new Encoder().encodeDeflated(vector.messages, 8);
    const result = await new Decoder().decodeMessage(bytes);
    assert.equal(result.error, null, `${vector.name}: ${result.error?.message}`);
    assert.deepEqual(plain(result.messages), vector.messages, vector.name);
  }
});

test('trailing bytes after a zlib stream are inflate_failed', async () => {
  const vector = vectors.find((v) => v.name === 'valid-logBatch-deflated');
  const bytes = hexToBytes(vector.hex);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  new DataView(longer.buffer).setUint32(0, bytes.length + 1 - 4);
  const result = await new Decoder().decodeMessage(longer);
  assert.equal(result.error?.code, 'inflate_failed');
});

test('varints and zigzag at the edges of 64 bits', async () => {
  const cases = [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
  for (const nonce of cases) {
    const bytes = new Encoder().encode({ type: 'ping', nonce });
    const { messages, error } = await new Decoder().decodeMessage(bytes);
    assert.equal(error, null);
    assert.equal(BigInt(messages[0].nonce), BigInt(nonce));
  }
  for (const exitCode of [0, -1, 1, -2, 2 ** 40, -(2 ** 40), 2n ** 63n - 1n, -(2n ** 63n)]) {
    const message = { type: 'ptyClose', sessionID: 's', exitCode, reason: '' };
    const { messages } = await new Decoder().decodeMessage(new Encoder().encode(message));
    assert.equal(BigInt(messages[0].exitCode), BigInt(exitCode));
  }
});

test('quantize rounds half away from zero and dequantize inverts it', () => {
  assert.equal(quantize(0.25, 1), 3n);
  assert.equal(quantize(-0.25, 1), -3n);
  assert.equal(quantize(812345000, -3), 812345n);
  assert.equal(dequantize(4125n, 2), 41.25);
  assert.equal(dequantize(812345n, -3), 812345000);
});

test('codec.js carries the tables of Spec/messages.json', () => {
  const spec = JSON.parse(readFileSync(join(root, 'Spec/messages.json'), 'utf8'));
  const enums = Object.fromEntries(Object.entries(spec.enums).map(([k, v]) => [k, v.values]));
  assert.deepEqual(ENUMS, enums);
  const structs = Object.fromEntries(Object.entries(spec.structs).map(([k, v]) => [k, v.fields]));
  assert.deepEqual(STRUCTS, structs);
  const messages = spec.messages.map((m) => [m.code, m.name, m.fields, !!m.custom]);
  assert.deepEqual(MESSAGES.map(([code, name, fields, custom]) => [code, name, fields, !!custom]), messages);
});
