import path from 'node:path';
import type { Logger } from '../logger.js';
import { withQuerySpans } from '../tracing/database.js';
import type { Database } from './database.js';
import { PgliteDatabase } from './pglite.js';
import { PostgresDatabase } from './postgres.js';

/** PostgreSQL when a URL is given, else embedded PGlite under dataDir. */
export async function openDatabase(options: {
  url?: string | undefined;
  dataDir: string;
  log: Logger;
  applicationName?: string;
}): Promise<Database> {
  if (options.url) {
    return withQuerySpans(
      new PostgresDatabase({ url: options.url, log: options.log, applicationName: options.applicationName }),
    );
  }
  options.log.info({ dataDir: options.dataDir }, 'DATABASE_URL not set: using embedded PGlite');
  return withQuerySpans(await PgliteDatabase.open(path.join(options.dataDir, 'pglite')));
}
