#!/usr/bin/env node
'use strict';
// Conformance writer: writes Spec/vectors/logfile/conformance.json's records through the
// dvic-log API into a log named "conformance-node" (in $DVIC_LOG_DIR).
// Usage: node conformance.js [VECTOR_JSON]   (run by libraries/conformance/run-writers)

const fs = require('node:fs');
const path = require('node:path');
const dvic = require(__dirname);

const vector = process.argv[2] || path.join(__dirname, '..', '..', 'Spec', 'vectors', 'logfile', 'conformance.json');
const { records } = JSON.parse(fs.readFileSync(vector, 'utf8'));
const log = dvic.open('conformance-node');
if (log.path === null) {
  process.stderr.write('conformance-node: could not open the log file\n');
  process.exit(1);
}
const write = {
  trace: (m) => log.trace(m),
  debug: (m) => log.debug(m),
  info: (m) => log.info(m),
  warn: (m) => log.warn(m),
  error: (m) => log.error(m),
  fatal: (m) => log.fatal(m),
};
for (const record of records) {
  const message = 'message' in record ? record.message : record.repeat.repeat(record.times);
  write[record.level](message);
}
console.log(log.path);
log.close();
