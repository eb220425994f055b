/**
 * test/runtime-sensitive.txt (what .ci/run tests on Node 22 and 24): every entry names a test file that
 * exists, once, with its reason; a stale entry fails here instead of silently testing less.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseRuntimeSensitive, readRuntimeSensitive } from '../../scripts/test-run/runtime-sensitive.js';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('test/runtime-sensitive.txt', () => {
  it('lists only test files that exist, each with a reason', () => {
    const entries = readRuntimeSensitive(root);
    assert.ok(entries.length >= 10, `${entries.length} entries`);
    for (const { file, reason, line } of entries) {
      assert.match(file, /\.test\.ts$/, `line ${line}: ${file} is not a test file`);
      assert.ok(existsSync(path.join(root, file)), `line ${line}: ${file} does not exist`);
      assert.ok(reason.length > 10, `line ${line}: say why ${file} is runtime-sensitive`);
    }
  });

  it('refuses an entry without a reason, or listed twice', () => {
    assert.throws(
      () => parseRuntimeSensitive('# comment\n\ntest/a.test.ts\n'),
      /:3: say after # why test\/a\.test\.ts/,
    );
    assert.throws(
      () => parseRuntimeSensitive('test/a.test.ts # ws\ntest/a.test.ts # again\n'),
      /:2: test\/a\.test\.ts is listed twice/,
    );
    assert.deepEqual(
      parseRuntimeSensitive('  test/a.test.ts   # the reason # with a hash\n').map((e) => [e.file, e.reason]),
      [[path.join('test', 'a.test.ts'), 'the reason # with a hash']],
    );
  });
});
