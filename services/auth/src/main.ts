import { openDatabase, serviceMain } from '@callgate/common';
import { authConfigShape, startAuthService } from './service.js';

await serviceMain('auth', authConfigShape, async (config, log) => {
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, log, applicationName: 'auth' });
  return startAuthService(config, { db, ownsDb: true });
});
