/**
 * `npm run mint-token -- --sub alice [--scope "calls:read calls:write"] [--ttl 3600]`: signs an access
 * token for the local gateway with JWT_SECRET, or with the key `npm start` keeps under .data/.
 */
import { parseArgs } from 'node:util';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
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
const token = mintToken(
  {
    secret: localJwtSecret(process.env, process.env.DATA_DIR ?? '.data'),
    issuer: process.env.JWT_ISSUER ?? 'callgate-local',
    audience: process.env.JWT_AUDIENCE ?? 'callgate',
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
