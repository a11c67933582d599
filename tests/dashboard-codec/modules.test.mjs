// Every module of the dashboard parses (a syntax error would only show in a browser
// otherwise), imports only files that exist, and the page names only files that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dashboard = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'Sources/DVICServer/Resources/dashboard');

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const modules = files(dashboard).filter((f) => f.endsWith('.js'));

for (const file of modules) {
  test(`${relative(dashboard, file)} parses and its imports exist`, () => {
    execFileSync(process.execPath, ['--check', file]);
    const source = readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/^import[^'"]*['"](\.[^'"]+)['"]/gm)) {
      assert.ok(existsSync(join(dirname(file), spec)), `${spec} imported by ${relative(dashboard, file)} is missing`);
    }
  });
}

test('index.html names only files that exist (or the vendor folder)', () => {
  const html = readFileSync(join(dashboard, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]);
  assert.ok(refs.includes('/app.js'));
  for (const ref of refs) {
    if (ref.startsWith('/vendor/')) continue;
    assert.ok(existsSync(join(dashboard, ref)), `${ref} is missing`);
  }
});

test('no inline script (the Content-Security-Policy allows none)', () => {
  const html = readFileSync(join(dashboard, 'index.html'), 'utf8');
  for (const [, attrs, body] of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(attrs, /src=/);
    assert.equal(body.trim(), '');
  }
  assert.doesNotMatch(html, /\son[a-z]+=/i);
});
