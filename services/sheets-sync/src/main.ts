import { openDatabase, serviceMain } from '@callgate/common';
import { sheetsSyncConfigShape, startSheetsSyncService } from './service.js';

await serviceMain('sheets-sync', sheetsSyncConfigShape, async (config, log) => {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    log,
    applicationName: 'sheets-sync',
  });
  return startSheetsSyncService(config, { db, ownsDb: true });
});
