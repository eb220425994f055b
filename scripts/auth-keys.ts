/**
 * `npm run auth-keys -- new | add | promote <kid> | retire <kid>`: the operator's tool for AUTH_SIGNING_KEYS,
 * the auth service's JWKS of private keys (the first signs, every one is published at /jwks). `new` prints
 * a JWKS with one fresh ES256 key; the others read the current JWKS on stdin and print the changed one:
 * `add` appends a fresh key (published, not yet signing), `promote` moves a key first (it signs), `retire`
 * removes one. Output goes to stdout only, to be piped into `aws secretsmanager put-secret-value`; nothing
 * touches the disk. The order and the waits between the steps: docs/runbooks/AuthKeyRotation.md.
 */
import { readFileSync } from 'node:fs';
import type { JWK } from 'oidc-provider';
import { generateSigningKey } from '../services/auth/src/keys.js';

const [command, kid] = process.argv.slice(2);

function fail(message: string): never {
  process.stderr.write(`auth-keys: ${message}\n`);
  process.exit(2);
}

function current(): JWK[] {
  let parsed: { keys?: JWK[] };
  try {
    parsed = JSON.parse(readFileSync(0, 'utf8'));
  } catch {
    fail('expected the current JWKS ({"keys": [...]}) on stdin');
  }
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) fail('the JWKS on stdin has no keys');
  return parsed.keys;
}

function find(keys: JWK[]): number {
  if (!kid) fail(`${command} needs the kid of a key`);
  const at = keys.findIndex((k) => k.kid === kid);
  if (at < 0) fail(`no key with kid ${kid} (kids: ${keys.map((k) => k.kid).join(', ')})`);
  return at;
}

let keys: JWK[];
switch (command) {
  case 'new':
    keys = [generateSigningKey()];
    break;
  case 'add':
    keys = [...current(), generateSigningKey()];
    break;
  case 'promote': {
    const all = current();
    const at = find(all);
    keys = [all[at] as JWK, ...all.filter((_, i) => i !== at)];
    break;
  }
  case 'retire': {
    const all = current();
    const at = find(all);
    if (at === 0) fail(`${kid} signs (it is first): promote another key first`);
    keys = all.filter((_, i) => i !== at);
    break;
  }
  default:
    fail('usage: npm run auth-keys -- new | add | promote <kid> | retire <kid>  (JWKS on stdin for all but new)');
}
process.stdout.write(`${JSON.stringify({ keys })}\n`);
process.stderr.write(`kids, the signing one first: ${keys.map((k) => k.kid).join(', ')}\n`);
