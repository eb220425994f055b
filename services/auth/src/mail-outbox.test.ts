/**
 * The outbox with several auth replicas: two drainers on their own connections race for the same due
 * mail, and each mail is sent exactly once. The race is forced, not hoped for: the first drainer's first
 * send waits until the second drainer has finished a whole pass, so without an exclusive claim the second
 * finds every mail of the first one's batch still unsent and sends it too.
 *
 * Its own database (a fresh one on DATABASE_URL's server, else PGlite): a drainer sends every due mail in
 * auth.mail_outbox, and other test files put mail there meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, type Database, ManualClock, migrate, readMigrations } from '@callgate/common';
import { Registry } from 'prom-client';
import { openIsolatedDatabase } from '../../../test/support/database.js';
import { eventually } from '../../../test/support/eventually.js';
import { enqueueMail, MAIL_CLAIM_LEASE_MS, type Mail, type MailSender, startMailDrainer } from './mail-outbox.js';

const log = createLogger('test', 'silent');
const NEVER_MS = 2_147_483_647;
const START = Date.parse('2026-01-01T00:00:00Z');
const clock = new ManualClock(START);

let database: Awaited<ReturnType<typeof openIsolatedDatabase>>;

before(async () => {
  database = await openIsolatedDatabase('mail_outbox');
  await migrate(database.db, 'auth', readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url))), log);
});
after(async () => database?.close());

function drainer(
  db: Database,
  sender: MailSender,
  options: { intervalMs?: number; clock?: ManualClock; registry?: Registry } = {},
) {
  return startMailDrainer({
    db,
    sender,
    from: 'test@example.com',
    intervalMs: options.intervalMs ?? NEVER_MS,
    clock: options.clock ?? clock,
    log,
    registry: options.registry ?? new Registry(),
  });
}

describe('mail outbox with several replicas', () => {
  it('two drainers racing on the same due mail send each mail exactly once', async () => {
    const mails = Array.from({ length: 30 }, (_, i) => ({
      to: `user${i}@example.com`,
      subject: 's',
      text: `mail ${i}`,
    }));
    for (const mail of mails) await enqueueMail(database.db, mail, clock.date());

    const sent: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const secondPassDone = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let firstSend = true;
    const slow = drainer(database.db, {
      async send(mail: Mail) {
        if (firstSend) {
          firstSend = false;
          await secondPassDone;
        }
        sent.push(mail.to);
      },
    });
    const fast = drainer(database.connect(), {
      async send(mail: Mail) {
        sent.push(mail.to);
      },
    });

    const slowPass = slow.drain();
    // The slow drainer holds its batch (blocked in its first send) while the fast one drains.
    await eventually('the slow drainer to start its first send', async () => (firstSend ? undefined : true));
    let fastSent = 0;
    for (let n = await fast.drain(); n > 0; n = await fast.drain()) fastSent += n;
    releaseFirst();
    const slowSent = await slowPass;
    await Promise.all([slow.stop(), fast.stop()]);

    assert.deepEqual(sent.toSorted(), mails.map((m) => m.to).toSorted(), 'every mail sent, none twice');
    assert.equal(slowSent + fastSent, mails.length);
    assert.ok(slowSent > 0 && fastSent > 0, 'both drainers took part');
    const { rows } = await database.db.query<{ pending: string }>(
      'SELECT count(*) AS pending FROM auth.mail_outbox WHERE sent_at IS NULL',
    );
    assert.equal(Number(rows[0]?.pending), 0);
  });

  it('a mail claimed by a drainer that died is sent by another once the lease runs out', async () => {
    await enqueueMail(database.db, { to: 'orphan@example.com', subject: 's', text: 'orphan' }, clock.date());
    const sent: string[] = [];
    // Dies mid-send: the claim is made, the outcome never recorded.
    const dying = drainer(database.db, { send: () => new Promise(() => undefined) });
    void dying.drain();
    const other = drainer(database.connect(), {
      async send(mail: Mail) {
        sent.push(mail.to);
      },
    });
    // Wait for the dying drainer's claim: until then, the other could take the mail first.
    await eventually('the dying drainer to claim the mail', async () => {
      const { rows } = await database.db.query<{ due: Date }>(
        "SELECT next_attempt_at AS due FROM auth.mail_outbox WHERE recipient = 'orphan@example.com'",
      );
      return new Date(rows[0]?.due as Date).getTime() > clock.now() ? true : undefined;
    });
    assert.equal(await other.drain(), 0, 'claimed by the other drainer: not sent meanwhile');
    clock.advance(MAIL_CLAIM_LEASE_MS);
    assert.equal(await other.drain(), 1);
    assert.deepEqual(sent, ['orphan@example.com']);
    await other.stop();
  });
});

describe('mail outbox drain job', () => {
  it('passes at each interval of its clock, one at a time, and leaves no timer after stop()', async () => {
    const own = new ManualClock(clock.now());
    await enqueueMail(database.db, { to: 'timed@example.com', subject: 's', text: 'timed' }, own.date());
    let delivered: (to: string) => void = () => undefined;
    const sent = new Promise<string>((resolve) => {
      delivered = resolve;
    });
    const timed = drainer(
      database.db,
      { send: async (mail: Mail) => delivered(mail.to) },
      { intervalMs: 1000, clock: own },
    );
    assert.equal(own.pending, 1, 'the first pass is scheduled');
    own.advance(999);
    assert.equal(own.pending, 1, 'not due yet');
    own.advance(1);
    assert.equal(own.pending, 0, 'the pass runs; the next is scheduled only when it ends');
    assert.equal(await sent, 'timed@example.com');
    await timed.drain();
    assert.equal(own.pending, 1, 'the next pass is scheduled');
    await timed.stop();
    assert.equal(own.pending, 0, 'stop() cancels the next pass');
  });

  it('a failed pass rejects drain() with its error and counts in periodic_job_failures_total', async () => {
    const down = { query: () => Promise.reject(new Error('database down')) } as unknown as Database;
    const registry = new Registry();
    const failing = drainer(down, { send: async () => undefined }, { registry });
    await assert.rejects(failing.drain(), /database down/);
    assert.match(
      await registry.getSingleMetricAsString('periodic_job_failures_total'),
      /periodic_job_failures_total\{job="auth-mail-drain"\} 1/,
    );
    await failing.stop();
  });
});
