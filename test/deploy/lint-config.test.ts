/**
 * biome.json's ignore list names only what exists: an exclusion of a deleted file is dead config that
 * hides whatever later takes that path from the linter and formatter.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');

test('every literal path biome.json excludes exists (globs and build outputs aside)', () => {
  const config = JSON.parse(readFileSync(path.join(root, 'biome.json'), 'utf8')) as { files: { includes: string[] } };
  const literal = config.files.includes
    .filter((entry) => entry.startsWith('!') && !entry.includes('*'))
    .map((entry) => entry.slice(1))
    // Generated at build time, absent from a fresh clone.
    .filter((entry) => entry !== 'protos/gen');
  assert.ok(literal.length > 0, 'biome.json excludes some literal paths');
  assert.deepEqual(
    literal.filter((entry) => !existsSync(path.join(root, entry))),
    [],
    'stale exclusions in biome.json',
  );
});
