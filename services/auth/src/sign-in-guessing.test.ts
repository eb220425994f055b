/**
 * Password guessing never lets one person lock out another: wrong passwords from one client address
 * lock that address (only) out of the account; the owner at another address signs in. Guessing
 * spread over many addresses trips the account-wide hourly throttle, which refuses every new
 * browser, right password or not, but not the owner's browser that signed in before, and a password
 * reset clears it. Each client address is a real one: the scripted browsers connect from 127.0.0.x.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestAuthService, type TestAuthService } from '../../../test/support/auth-service.js';
import {
  authorizeUrl,
  csrfOf,
  interactionOf,
  pkcePair,
  registerClient,
  ScriptedBrowser,
} from '../../../test/support/oauth-flow.js';

const REDIRECT = 'http://127.0.0.1:1/callback';
const PASSWORD = 'the owner’s long password';
const NEW_PASSWORD = 'the owner’s new long password';
const MAX_FAILED = 3;
const PER_ACCOUNT_PER_HOUR = 6;

describe('password guessing', () => {
  let service: TestAuthService;
  let origin: string;
  let clientId: string;
  before(async () => {
    service = await startTestAuthService({
      AUTH_RESOURCE_URL: 'http://127.0.0.1:1/mcp',
      AUTH_MAX_FAILED_SIGN_INS: String(MAX_FAILED),
      AUTH_SIGN_INS_PER_ACCOUNT_PER_HOUR: String(PER_ACCOUNT_PER_HOUR),
    });
    origin = service.origin;
    clientId = await registerClient(origin, REDIRECT);
  });
  after(() => service?.stop());

  /** A confirmed account, made from `address`. */
  async function newAccount(address: string): Promise<string> {
    const email = `guess-${randomUUID()}@example.com`;
    const browser = new ScriptedBrowser(origin, address);
    const page = await browser.request('/signup');
    const signup = await browser.request('/signup', { form: { csrf: csrfOf(page.body), email, password: PASSWORD } });
    assert.equal(signup.status, 200);
    const link = new URL(await service.mailedLink(email, /Confirm/));
    await browser.request(link.pathname + link.search);
    return email;
  }

  /** The status of one sign-in on a fresh authorization request: 303 signed in, 401 wrong, 423 locked, 429 limited. */
  async function signIn(browser: ScriptedBrowser, email: string, password: string): Promise<number> {
    const login = await browser.follow(
      authorizeUrl({
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
        prompt: 'login',
      }),
    );
    const uid = interactionOf(login.url);
    assert.ok(uid, `a sign-in page: ${login.status} ${login.body.slice(0, 200)}`);
    const answer = await browser.request(`/interaction/${uid}/login`, {
      form: { csrf: csrfOf(login.body), email, password },
    });
    return answer.status;
  }

  it('wrong guesses from one address lock that address out (423, even with the right password); the owner at another signs in', async () => {
    const email = await newAccount('127.0.0.2');
    const attacker = new ScriptedBrowser(origin, '127.0.0.3');
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILED; i++) statuses.push(await signIn(attacker, email, `wrong guess ${i}!!`));
    statuses.push(await signIn(attacker, email, PASSWORD));
    statuses.push(await signIn(attacker, email, 'one more wrong guess'));
    assert.deepEqual(statuses, [401, 401, 401, 423, 423], 'guessing beyond the limit is refused at that address');
    assert.equal(await signIn(new ScriptedBrowser(origin, '127.0.0.4'), email, PASSWORD), 303, 'the owner elsewhere');
    // Still locked for the guesser after the owner's sign-in.
    assert.equal(await signIn(attacker, email, PASSWORD), 423);
  });

  it('guessing from many addresses trips the account throttle (429 for new browsers); the owner’s known browser and a reset pass', async () => {
    const email = await newAccount('127.0.0.10');
    const owner = new ScriptedBrowser(origin, '127.0.0.11');
    assert.equal(await signIn(owner, email, PASSWORD), 303, 'the owner signs in once: this browser is known');
    // PER_ACCOUNT_PER_HOUR wrong passwords spread over addresses, none of them locked yet.
    for (let i = 0; i < PER_ACCOUNT_PER_HOUR; i++) {
      const guesser = new ScriptedBrowser(origin, `127.0.1.${i + 1}`);
      assert.equal(await signIn(guesser, email, `wrong guess ${i}!!`), 401);
    }
    assert.equal(await signIn(new ScriptedBrowser(origin, '127.0.2.1'), email, 'another guess!!'), 429);
    assert.equal(
      await signIn(new ScriptedBrowser(origin, '127.0.2.2'), email, PASSWORD),
      429,
      'a new browser is refused even with the right password while the throttle holds',
    );
    assert.equal(await signIn(owner, email, PASSWORD), 303, 'the browser that signed in before still signs in');

    // A password reset by mail clears it: a new browser signs in with the new password.
    const other = new ScriptedBrowser(origin, '127.0.2.3');
    const page = await other.request('/reset-password');
    await other.request('/reset-password', { form: { csrf: csrfOf(page.body), email } });
    const link = new URL(await service.mailedLink(email, /Reset/));
    const form = await other.request(link.pathname + link.search);
    const reset = await other.request(link.pathname + link.search, {
      form: { csrf: csrfOf(form.body), password: NEW_PASSWORD },
    });
    assert.equal(reset.status, 200);
    assert.equal(await signIn(other, email, NEW_PASSWORD), 303);
  });
});
