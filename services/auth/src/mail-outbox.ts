import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { type Clock, type Database, type Logger, periodic, type Queryable, systemClock } from '@callgate/common';
import { Counter, type Registry } from 'prom-client';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Puts a mail in the outbox, in the caller's transaction: it is sent if and only if the change commits. */
export async function enqueueMail(tx: Queryable, mail: Mail, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO auth.mail_outbox (recipient, subject, body_text, created_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $4)`,
    [mail.to, mail.subject, mail.text, now],
  );
}

/** Writes a mail to the account with this address, if there is one (no row otherwise; the same statement either way). */
export async function enqueueMailToAccount(
  tx: Queryable,
  email: string,
  mail: Omit<Mail, 'to'>,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO auth.mail_outbox (recipient, subject, body_text, created_at, next_attempt_at)
     SELECT email, $2, $3, $4, $4 FROM auth.accounts WHERE email = $1`,
    [email, mail.subject, mail.text, now],
  );
}

export interface MailSender {
  send(mail: Mail & { from: string }): Promise<void>;
}

/**
 * Sends through SES (API v2) with the AWS SDK. Locally MAIL_SES_ENDPOINT points at the sandbox,
 * which speaks the same SendEmail API and shows what was sent on its /mail page.
 */
export function sesSender(options: { region: string; endpoint?: string | undefined }): MailSender {
  const client = new SESv2Client({
    region: options.region,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          // The sandbox checks no signature; without AWS credentials in the environment, sign with placeholders.
          credentials: process.env.AWS_ACCESS_KEY_ID
            ? undefined
            : { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
        }
      : {}),
  });
  return {
    async send(mail) {
      await client.send(
        new SendEmailCommand({
          FromEmailAddress: mail.from,
          Destination: { ToAddresses: [mail.to] },
          Content: { Simple: { Subject: { Data: mail.subject }, Body: { Text: { Data: mail.text } } } },
        }),
      );
    },
  };
}

/**
 * How long a claimed mail is left to the drainer that claimed it before another may take it: longer than
 * a batch of sends takes (SES answers in well under a second; the SDK retries a few times), so only a
 * drainer that died mid-batch gives its mail up, which is then sent again: at least once, never twice
 * while its drainer lives.
 */
export const MAIL_CLAIM_LEASE_MS = 10 * 60_000;
const CLAIM_BATCH = 20;

/**
 * Claims up to CLAIM_BATCH due mails for this drainer alone, in one statement: the rows are locked
 * (`SKIP LOCKED`: what another replica is claiming right now is passed over, not waited for) and their
 * next_attempt_at moved past the lease, so no other drainer finds them due until this one has recorded
 * the outcome or died. Without the claim, two replicas reading the same due rows both sent them.
 */
async function claimDueMail(db: Queryable, now: Date): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `UPDATE auth.mail_outbox SET next_attempt_at = $2
     WHERE id IN (
       SELECT id FROM auth.mail_outbox
       WHERE sent_at IS NULL AND next_attempt_at <= $1
       ORDER BY id LIMIT ${CLAIM_BATCH}
       FOR UPDATE SKIP LOCKED)
     RETURNING id, recipient, subject, body_text, attempts`,
    [now, new Date(now.getTime() + MAIL_CLAIM_LEASE_MS)],
  );
  // RETURNING gives no order; send oldest first.
  return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

interface OutboxRow {
  id: string;
  recipient: string;
  subject: string;
  body_text: string;
  attempts: number;
}

/**
 * Drains the outbox: each pending mail is sent once it is due; a failure is retried with a growing
 * pause (up to an hour) and counted, so a mail service outage delays mail but loses none. The passes
 * run as a periodic job (auth-mail-drain): one at a time, whether started by the timer or by drain(),
 * a failed pass (the database, not a mail) logged and counted in periodic_job_failures_total.
 */
export function startMailDrainer(options: {
  db: Database;
  sender: MailSender;
  from: string;
  intervalMs: number;
  /** Default systemClock. */
  clock?: Clock;
  log: Logger;
  registry: Registry;
}): {
  /** A pass now (or the one under way): the number of mails sent; rejects when the pass failed. */
  drain: () => Promise<number>;
  /** No further passes; waits for the one under way. */
  stop: () => Promise<void>;
} {
  const clock = options.clock ?? systemClock;
  const sent = new Counter({
    name: 'auth_mail_sent_total',
    help: 'Account mail handed to the mail service, by outcome (sent, failed).',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  const drainOnce = async (): Promise<number> => {
    const rows = await claimDueMail(options.db, clock.date());
    let done = 0;
    for (const row of rows) {
      try {
        await options.sender.send({ to: row.recipient, subject: row.subject, text: row.body_text, from: options.from });
        await options.db.query('UPDATE auth.mail_outbox SET sent_at = $2, attempts = attempts + 1 WHERE id = $1', [
          row.id,
          clock.date(),
        ]);
        sent.inc({ outcome: 'sent' });
        done++;
      } catch (error) {
        const pauseMs = Math.min(3_600_000, 5000 * 2 ** row.attempts);
        await options.db.query(
          'UPDATE auth.mail_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1',
          [row.id, new Date(clock.now() + pauseMs), String((error as Error).message).slice(0, 500)],
        );
        sent.inc({ outcome: 'failed' });
        options.log.warn({ err: error, mailId: row.id }, 'mail not sent; retried later');
      }
    }
    return done;
  };
  // periodic's runOnce resolves to undefined when a pass failed (logged and counted); drain() callers
  // get the failure itself, as before the job ran on periodic().
  let failure: unknown;
  const job = periodic({
    name: 'auth-mail-drain',
    intervalMs: options.intervalMs,
    run: async () => {
      try {
        return await drainOnce();
      } catch (error) {
        failure = error;
        throw error;
      }
    },
    failureLevel: 'error',
    clock,
    log: options.log,
    registry: options.registry,
  });
  return {
    drain: async () => {
      const done = await job.runOnce();
      if (done === undefined) throw failure;
      return done;
    },
    stop: () => job.stop(),
  };
}
