import { openDatabase, serviceMain } from '@callgate/common';
import { callConfigShape, startCallService } from './service.js';

await serviceMain('call', callConfigShape, async (config, log) => {
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, log, applicationName: 'call' });
  return startCallService(config, { db, ownsDb: true });
});
