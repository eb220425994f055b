import { type Clock, type Database, Lease as TableLease } from '@callgate/common';

/** The poller's leases (poller.leases): the stale-call sweep's election. The Lease itself is common's. */
export class Lease extends TableLease {
  constructor(db: Database, name: string, holder: string, options: { ttlMs: number; clock: Clock }) {
    super(db, name, holder, { ...options, table: 'poller.leases' });
  }
}
