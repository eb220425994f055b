/**
 * How the operator scripts (smoke, credits, dlq) find a system `npm start` runs on this machine: while
 * it runs, it keeps `<DATA_DIR>/local-system.json` with its addresses, so they work with any port mode
 * and no hand-built flags. Nothing secret goes in it (the signing key stays in its own 0600 file).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DISCOVERY_FILE = 'local-system.json';

export interface LocalDiscovery {
  pid: number;
  startedAt: string;
  mcpUrl: string;
  /** The web console, when npm start serves it. */
  consoleUrl?: string;
  /** gRPC address (host:port) of each service by name. */
  grpc: Record<string, string>;
  /** /metrics URL of each service by name. */
  metrics: Record<string, string>;
  sqsEndpoint?: string;
  jwt: { issuer: string; audience: string };
  /** Where the embedded database keeps its data; absent when the system uses PostgreSQL (DATABASE_URL). */
  pgliteDir?: string;
}

/** DATA_DIR as every local script reads it. */
export const localDataDir = (env: Record<string, string | undefined> = process.env) => env.DATA_DIR || '.data';

export function writeDiscovery(dataDir: string, discovery: LocalDiscovery): string {
  const file = path.join(dataDir, DISCOVERY_FILE);
  writeFileSync(file, `${JSON.stringify(discovery, null, 2)}\n`);
  return file;
}

/** Removes the file if it is still this process's (a second `npm start` may have replaced it). */
export function removeDiscovery(dataDir: string, pid = process.pid): void {
  if (readDiscovery(dataDir)?.pid === pid) rmSync(path.join(dataDir, DISCOVERY_FILE), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running system's addresses, or undefined when none runs (no file, or one left by a killed process). */
export function readDiscovery(dataDir: string): LocalDiscovery | undefined {
  let discovery: LocalDiscovery;
  try {
    discovery = JSON.parse(readFileSync(path.join(dataDir, DISCOVERY_FILE), 'utf8')) as LocalDiscovery;
  } catch {
    return undefined;
  }
  return Number.isInteger(discovery.pid) && alive(discovery.pid) ? discovery : undefined;
}
