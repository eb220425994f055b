/**
 * test/runtime-sensitive.txt: the test files that exercise what changes between Node versions (the
 * built-in fetch/undici, the http and http2 servers under ws and grpc-js, WebCrypto under jose, streams,
 * child processes and signals, loader hooks). `.ci/run` runs the whole suite on Node 20 and these on
 * Node 22 and 24 (`npm test -- --runtime-sensitive`). One file per line with the reason after `#`;
 * blank lines and lines starting with `#` are comments.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const RUNTIME_SENSITIVE_LIST = 'test/runtime-sensitive.txt';

export interface RuntimeSensitiveEntry {
  /** Relative to the repository root, with the platform's separator (as the runner lists files). */
  file: string;
  reason: string;
  line: number;
}

/** The list's entries; throws naming the line for an entry without a reason or listed twice. */
export function parseRuntimeSensitive(text: string): RuntimeSensitiveEntry[] {
  const entries: RuntimeSensitiveEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const hash = line.indexOf('#');
    const file = (hash === -1 ? line : line.slice(0, hash)).trim();
    const reason = hash === -1 ? '' : line.slice(hash + 1).trim();
    if (!reason) throw new Error(`${RUNTIME_SENSITIVE_LIST}:${i + 1}: say after # why ${file} is runtime-sensitive`);
    const normalized = file.split('/').join(path.sep);
    if (entries.some((e) => e.file === normalized))
      throw new Error(`${RUNTIME_SENSITIVE_LIST}:${i + 1}: ${file} is listed twice`);
    entries.push({ file: normalized, reason, line: i + 1 });
  });
  return entries;
}

export function readRuntimeSensitive(root: string): RuntimeSensitiveEntry[] {
  return parseRuntimeSensitive(readFileSync(path.join(root, RUNTIME_SENSITIVE_LIST), 'utf8'));
}
