/**
 * Sequences (identity columns included) are not rows: copying entries with their entry_id leaves the target's
 * identity sequence at 1, and the first insert after the cut-over would collide. After every copy the target's
 * sequences are moved to the source's next value, and never backwards, so a re-run cannot hand out ids twice.
 */
import type { Queryable } from '@callgate/common';
import { qualified } from './sql.js';

export interface SequenceSync {
  sequence: string;
  /** The value the target hands out next. */
  next: string;
}

export async function sequencesOf(db: Queryable, schema: string): Promise<{ name: string; increment: string }[]> {
  const { rows } = await db.query<{ name: string; increment: string }>(
    `SELECT c.relname AS name, s.seqincrement::text AS increment FROM pg_sequence s
       JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 ORDER BY c.relname`,
    [schema],
  );
  return rows;
}

/** The value nextval() would return: last_value itself when it was never called, else one step on. */
export async function nextValue(db: Queryable, schema: string, name: string, increment: bigint): Promise<bigint> {
  const { rows } = await db.query<{ last_value: string; is_called: boolean }>(
    `SELECT last_value::text AS last_value, is_called FROM ${qualified(schema, name)}`,
  );
  const row = rows[0] as { last_value: string; is_called: boolean };
  return row.is_called ? BigInt(row.last_value) + increment : BigInt(row.last_value);
}

/**
 * Reads the source's sequences (outside any snapshot: sequences are not transactional, so this sees at least
 * every id the copied rows carry) and moves the target's forward to match.
 */
export async function syncSequences(source: Queryable, target: Queryable, schema: string): Promise<SequenceSync[]> {
  const synced: SequenceSync[] = [];
  const onTarget = new Set((await sequencesOf(target, schema)).map((s) => s.name));
  for (const { name, increment } of await sequencesOf(source, schema)) {
    if (!onTarget.has(name)) continue;
    const step = BigInt(increment);
    const fromSource = await nextValue(source, schema, name, step);
    const current = await nextValue(target, schema, name, step);
    // Ascending sequences move up, descending ones down: never hand out a value the target already gave.
    const next =
      step > 0n ? (fromSource > current ? fromSource : current) : fromSource < current ? fromSource : current;
    await target.query('SELECT setval($1::regclass, $2::bigint, false)', [qualified(schema, name), next.toString()]);
    synced.push({ sequence: `${schema}.${name}`, next: next.toString() });
  }
  return synced;
}

/** Sequences whose target would hand out a value the source already may have: behind the source's next value. */
export async function sequencesBehind(source: Queryable, target: Queryable, schema: string): Promise<string[]> {
  const behind: string[] = [];
  const onTarget = new Set((await sequencesOf(target, schema)).map((s) => s.name));
  for (const { name, increment } of await sequencesOf(source, schema)) {
    const step = BigInt(increment);
    if (!onTarget.has(name)) {
      behind.push(`sequence ${schema}.${name} is missing on the target`);
      continue;
    }
    const [s, t] = [await nextValue(source, schema, name, step), await nextValue(target, schema, name, step)];
    if (step > 0n ? t < s : t > s)
      behind.push(`sequence ${schema}.${name} is at ${t} on the target, behind the source's ${s}`);
  }
  return behind;
}
