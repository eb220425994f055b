import { openDatabase, serviceMain } from '@callgate/common';
import { startUserCreditService, userCreditConfigShape } from './service.js';

await serviceMain('user-credit', userCreditConfigShape, async (config, log) => {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    log,
    applicationName: 'user-credit',
  });
  return startUserCreditService(config, { db, ownsDb: true });
});
