/**
 * Deleting an account on /delete-account against the real auth service: what goes (the account, its
 * sessions, grants and personal access tokens, its mail), the last mail, and every hostile post: no or
 * a wrong CSRF token, a mismatched confirmation (refused before the password counts), a wrong password
 * (counts toward the lockout like any sign-in), another person's address, a huge or NUL-laden form,
 * deleting twice, and two deletes at once. The gateway's side: test/e2e/account-deletion.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '@callgate/common';
import { startTestAuthService, type TestAuthService } from '../../../test/support/auth-service.js';
import { eventually } from '../../../test/support/eventually.js';
import { csrfOf, ScriptedBrowser } from '../../../test/support/oauth-flow.js';
import { PersonalTokens } from './personal-tokens.js';

const PASSWORD = 'a long enough password';
const MAX_FAILED = 3;

describe('deleting an account', () => {
  let service: TestAuthService;
  let tokens: PersonalTokens;
  before(async () => {
    service = await startTestAuthService({
      AUTH_MAX_FAILED_SIGN_INS: String(MAX_FAILED),
      AUTH_SIGN_INS_PER_IP_PER_HOUR: '1000',
    });
    tokens = new PersonalTokens(service.db, systemClock, service.personalTokenFormat);
  });
  after(() => service?.stop());

  /** A confirmed account made on the pages, with one personal access token; its id and token. */
  async function newAccount(): Promise<{ email: string; accountId: string; token: string }> {
    const email = `delete-${randomUUID()}@example.com`;
    const browser = new ScriptedBrowser(service.origin);
    const signup = await browser.request('/signup');
    await browser.request('/signup', { form: { csrf: csrfOf(signup.body), email, password: PASSWORD } });
    const link = new URL(await service.mailedLink(email, /Confirm/));
    assert.equal((await browser.request(link.pathname + link.search)).status, 200);
    const { rows } = await service.db.query<{ account_id: string }>(
      'SELECT account_id FROM auth.accounts WHERE email = $1',
      [email],
    );
    const accountId = rows[0]?.account_id as string;
    const { token } = await tokens.create(accountId, { name: 'agent', scopes: ['calls:read'], days: 7 });
    return { email, accountId, token };
  }

  /** Posts the deletion form from a browser that loaded it (its CSRF token unless `csrf` is given). */
  async function postDeletion(
    fields: { email?: string; password?: string; confirm?: string; csrf?: string },
    browser = new ScriptedBrowser(service.origin),
  ) {
    const form = await browser.request('/delete-account');
    const posted: Record<string, string> = { csrf: csrfOf(form.body) };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) posted[key] = value;
    return browser.request('/delete-account', { form: posted });
  }

  const exists = async (accountId: string) =>
    (await service.db.query('SELECT 1 FROM auth.accounts WHERE account_id = $1', [accountId])).rows.length > 0;

  it('the page is linked from the personal tokens and sign-out pages, and asks for password and confirmation', async () => {
    const browser = new ScriptedBrowser(service.origin);
    for (const from of ['/personal-tokens', '/sign-out-everywhere']) {
      assert.match((await browser.request(from)).body, /href="\/delete-account"/, from);
    }
    const form = await browser.request('/delete-account');
    assert.equal(form.status, 200);
    assert.ok(csrfOf(form.body));
    for (const field of ['email', 'password', 'confirm']) assert.match(form.body, new RegExp(`name="${field}"`));
    assert.equal((await browser.request('/delete-account', { method: 'PUT' })).status, 405);
  });

  it('deletes the account, its sessions, grants, tokens and mail, and sends one last mail', async () => {
    const { email, accountId, token } = await newAccount();
    assert.ok(await tokens.verify(token), 'the token works before');
    // A session and a grant of the account, as oidc-provider stores them.
    for (const kind of ['Session', 'Grant']) {
      await service.db.query(
        `INSERT INTO auth.oidc_payloads (kind, id, payload, account_id) VALUES ($1, $2, '{}'::jsonb, $3)`,
        [kind, randomUUID(), accountId],
      );
    }
    const deleted = await postDeletion({ email, password: PASSWORD, confirm: email.toUpperCase() });
    assert.equal(deleted.status, 200, deleted.body.slice(0, 400));
    assert.match(deleted.body, /Your account is deleted/);
    assert.equal(await exists(accountId), false);
    assert.equal(await tokens.verify(token), undefined, 'the personal access token no longer works');
    for (const table of ['personal_tokens', 'one_time_links', 'sign_in_failures', 'oidc_payloads']) {
      const { rows } = await service.db.query(`SELECT 1 FROM auth.${table} WHERE account_id = $1`, [accountId]);
      assert.equal(rows.length, 0, `nothing of the account left in auth.${table}`);
    }
    await eventually(
      'the last mail sent',
      async () =>
        (await service.mails()).some((m) => m.to.includes(email) && /account was deleted/.test(m.subject)) || undefined,
    );
    const mails = async () =>
      (
        await service.db.query<{ subject: string }>('SELECT subject FROM auth.mail_outbox WHERE recipient = $1', [
          email,
        ])
      ).rows;
    assert.deepEqual(
      (await mails()).map((m) => m.subject),
      ['Your callgate account was deleted'],
      'earlier mail to the address is gone, only the last one is kept',
    );

    // Deleting twice: the account is gone, so the password no longer signs in.
    const again = await postDeletion({ email, password: PASSWORD, confirm: email });
    assert.equal(again.status, 401);
    assert.match(again.body, /wrong email or password/);
    // And it cannot sign in anywhere else either.
    const browser = new ScriptedBrowser(service.origin);
    const form = await browser.request('/personal-tokens');
    const signIn = await browser.request('/personal-tokens', {
      form: { csrf: csrfOf(form.body), email, password: PASSWORD, revoke: 'x' },
    });
    assert.equal(signIn.status, 401);
  });

  it('refuses a post without or with a wrong CSRF token, and deletes nothing', async () => {
    const { email, accountId } = await newAccount();
    const browser = new ScriptedBrowser(service.origin);
    await browser.request('/delete-account');
    const fields = { email, password: PASSWORD, confirm: email };
    assert.equal((await browser.request('/delete-account', { form: fields })).status, 403);
    const wrong = await browser.request('/delete-account', { form: { ...fields, csrf: 'x'.repeat(43) } });
    assert.equal(wrong.status, 403);
    assert.match(wrong.body, /CSRF/);
    // A token from another browser (another cookie) does not hold either.
    const other = new ScriptedBrowser(service.origin);
    const otherToken = csrfOf((await other.request('/delete-account')).body);
    assert.equal((await browser.request('/delete-account', { form: { ...fields, csrf: otherToken } })).status, 403);
    // Nor one made for another form.
    const signOutToken = csrfOf((await browser.request('/sign-out-everywhere')).body);
    assert.equal((await browser.request('/delete-account', { form: { ...fields, csrf: signOutToken } })).status, 403);
    assert.equal(await exists(accountId), true);
  });

  it('refuses a mismatched confirmation before the password is checked (no lockout counted)', async () => {
    const { email, accountId } = await newAccount();
    for (const confirm of [undefined, '', `x${email}`, 'someone@example.com']) {
      const answer = await postDeletion({ email, password: 'wrong password entirely', confirm });
      assert.equal(answer.status, 400, String(confirm));
      assert.match(answer.body, /confirmation box/);
    }
    const { rows } = await service.db.query('SELECT 1 FROM auth.sign_in_failures WHERE account_id = $1', [accountId]);
    assert.equal(rows.length, 0, 'no wrong password was counted');
    assert.equal(await exists(accountId), true);
  });

  it('a wrong password counts toward the lockout: the right one is then refused from that address', async () => {
    const { email, accountId } = await newAccount();
    const attacker = new ScriptedBrowser(service.origin, '127.0.0.2');
    for (let i = 0; i < MAX_FAILED; i++) {
      const answer = await postDeletion({ email, password: `guess number ${i} of many`, confirm: email }, attacker);
      assert.equal(answer.status, 401);
      assert.match(answer.body, /wrong email or password/);
    }
    const locked = await postDeletion({ email, password: PASSWORD, confirm: email }, attacker);
    assert.equal(locked.status, 401);
    assert.match(locked.body, /locked/);
    assert.equal(await exists(accountId), true, 'the lockout held against the right password');
    // Someone else's account with any password but its own: refused, untouched.
    const other = await newAccount();
    const crossed = await postDeletion({
      email: other.email,
      password: 'my own different password',
      confirm: other.email,
    });
    assert.equal(crossed.status, 401);
    assert.equal(await exists(other.accountId), true);
    // The owner from another address is not locked out.
    const owner = new ScriptedBrowser(service.origin, '127.0.0.3');
    assert.equal((await postDeletion({ email, password: PASSWORD, confirm: email }, owner)).status, 200);
    assert.equal(await exists(accountId), false);
  });

  it('a huge form or one with NUL bytes is refused without a crash', async () => {
    const { email, accountId } = await newAccount();
    const browser = new ScriptedBrowser(service.origin);
    const csrf = csrfOf((await browser.request('/delete-account')).body);
    const huge = await browser.request('/delete-account', {
      form: { csrf, email, password: PASSWORD, confirm: email, pad: 'x'.repeat(100_000) },
    });
    assert.equal(huge.status, 413);
    const nul = await browser.request('/delete-account', {
      form: { csrf, email, password: `${PASSWORD}\0`, confirm: email },
    });
    assert.equal(nul.status, 400);
    assert.equal(await exists(accountId), true);
  });

  it('two deletes at once: one deletes, the other is told, one last mail', async () => {
    const { email, accountId } = await newAccount();
    const browsers = [new ScriptedBrowser(service.origin), new ScriptedBrowser(service.origin)];
    const forms = await Promise.all(browsers.map((b) => b.request('/delete-account')));
    const answers = await Promise.all(
      browsers.map((b, i) =>
        b.request('/delete-account', {
          form: { csrf: csrfOf(forms[i]?.body ?? ''), email, password: PASSWORD, confirm: email },
        }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 1, JSON.stringify(statuses));
    // The other either found the account gone at sign-in (401) or lost the race to delete it (410).
    assert.ok([401, 410].includes(statuses[1] as number), JSON.stringify(statuses));
    assert.equal(await exists(accountId), false);
    const { rows } = await service.db.query(
      "SELECT 1 FROM auth.mail_outbox WHERE recipient = $1 AND subject = 'Your callgate account was deleted'",
      [email],
    );
    assert.equal(rows.length, 1);
  });
});
