/** Debian's chromium package (.ci/run installs it), driven by playwright-core, headless, talking to 127.0.0.1 only. */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Why browser tests are skipped, or false when Chromium is there. */
export const chromiumMissing = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does)`;
