import type { PromiseClient } from '@callgate/common';
import type { creditV1 } from '@callgate/protos';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { userIdOf } from './auth.js';

/**
 * Makes sure the authenticated user exists in user-credit before their first tool or resource touches
 * it: the JWT subject is the identity, so the first authenticated request creates the user (with the
 * token's name and email). Known users are remembered per replica, so this costs one call per user,
 * and concurrent first requests share it.
 */
export class UserDirectory {
  private readonly known = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly credit: PromiseClient<creditV1.CreditServiceDefinition>,
    private readonly capacity = 50_000,
  ) {}

  async ensure(auth: AuthInfo | undefined): Promise<string> {
    const userId = userIdOf(auth);
    if (this.known.has(userId)) return userId;
    let creating = this.pending.get(userId);
    if (!creating) {
      const claim = (name: string) => (typeof auth?.extra?.[name] === 'string' ? (auth.extra[name] as string) : '');
      creating = this.credit
        .getUser(
          {
            userId,
            createIfMissing: true,
            displayName: claim('name').slice(0, 200),
            email: claim('email').slice(0, 320),
          },
          // Not the caller's signal: concurrent first requests share this creation, and one cancelled
          // request must not fail the others.
          { deadlineMs: 5000 },
        )
        .then(() => this.remember(userId))
        .finally(() => this.pending.delete(userId));
      this.pending.set(userId, creating);
    }
    await creating;
    return userId;
  }

  private remember(userId: string): void {
    // A Set iterates in insertion order, so the first entry is the oldest: a cheap bound on memory.
    if (this.known.size >= this.capacity) this.known.delete(this.known.values().next().value as string);
    this.known.add(userId);
  }
}
