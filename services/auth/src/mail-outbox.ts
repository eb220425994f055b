import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Database, Logger, Queryable } from '@callgate/common';
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
 * pause (up to an hour) and counted, so a mail service outage delays mail but loses none.
 */
export function startMailDrainer(options: {
  db: Database;
  sender: MailSender;
  from: string;
  intervalMs: number;
  now: () => Date;
  log: Logger;
  registry: Registry;
}): { drain: () => Promise<number>; stop: () => Promise<void> } {
  const sent = new Counter({
    name: 'auth_mail_sent_total',
    help: 'Account mail handed to the mail service, by outcome (sent, failed).',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  let running: Promise<number> | undefined;
  const drainOnce = async (): Promise<number> => {
    const rows = await claimDueMail(options.db, options.now());
    let done = 0;
    for (const row of rows) {
      try {
        await options.sender.send({ to: row.recipient, subject: row.subject, text: row.body_text, from: options.from });
        await options.db.query('UPDATE auth.mail_outbox SET sent_at = $2, attempts = attempts + 1 WHERE id = $1', [
          row.id,
          options.now(),
        ]);
        sent.inc({ outcome: 'sent' });
        done++;
      } catch (error) {
        const pauseMs = Math.min(3_600_000, 5000 * 2 ** row.attempts);
        await options.db.query(
          'UPDATE auth.mail_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1',
          [row.id, new Date(options.now().getTime() + pauseMs), String((error as Error).message).slice(0, 500)],
        );
        sent.inc({ outcome: 'failed' });
        options.log.warn({ err: error, mailId: row.id }, 'mail not sent; retried later');
      }
    }
    return done;
  };
  // One pass at a time, whether started by the timer or by a caller that just wrote mail.
  const drain = () => {
    running ??= drainOnce().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(
    () => void drain().catch((error: unknown) => options.log.error({ err: error }, 'mail drain failed')),
    options.intervalMs,
  );
  timer.unref();
  return {
    drain,
    stop: async () => {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
