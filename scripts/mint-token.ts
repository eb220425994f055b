/**
 * `npm run mint-token -- --sub alice [--scope "calls:read calls:write"] [--ttl 3600]`: signs an access
 * token for the local gateway with JWT_SECRET, or with the key `npm start` keeps in DATA_DIR (default
 * .data), for the issuer and audience of the system running there.
 */
import { parseArgs } from 'node:util';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { localDataDir, readDiscovery } from './local-discovery.js';
import { localJwtSecret } from './local-system.js';

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: 'local-user' },
    scope: { type: 'string', default: USER_SCOPES },
    ttl: { type: 'string', default: '43200' },
    email: { type: 'string' },
    name: { type: 'string' },
  },
});
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) {
  process.stderr.write('--ttl must be a whole number of seconds\n');
  process.exit(2);
}
const dataDir = localDataDir();
const running = readDiscovery(dataDir);
const token = mintToken(
  {
    secret: localJwtSecret(process.env, dataDir),
    issuer: process.env.JWT_ISSUER ?? running?.jwt.issuer ?? 'callgate-local',
    audience: process.env.JWT_AUDIENCE ?? running?.jwt.audience ?? 'callgate',
  },
  {
    sub: values.sub,
    scope: values.scope,
    ...(values.email ? { email: values.email } : {}),
    ...(values.name ? { name: values.name } : {}),
  },
  ttl,
);
process.stdout.write(`${token}\n`);
