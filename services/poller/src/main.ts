import { openDatabase, serviceMain } from '@callgate/common';
import { pollerConfigShape, startPollerService } from './service.js';

await serviceMain('poller', pollerConfigShape, async (config, log) => {
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, log, applicationName: 'poller' });
  return startPollerService(config, { db, ownsDb: true });
});
