/** The README states what the code does: its configuration table matches the zod schemas. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { README, readmeWithTable } from '../../scripts/env-table.js';

it('the README configuration table is generated from the current schemas (npm run docs:env)', () => {
  const readme = readFileSync(README, 'utf8');
  assert.equal(readme, readmeWithTable(readme), 'README.md is stale: run npm run docs:env');
});

it('the README starts with what callgate is, then the two commands', () => {
  const readme = readFileSync(README, 'utf8');
  const twoCommands = readme.indexOf('npm ci && npm start');
  assert.ok(twoCommands > 0 && twoCommands < 1500, 'the quick start is on the first screen');
  assert.ok(readme.indexOf('npm test') > twoCommands);
});
