import type { Conversation } from './conversation.js';

/**
 * The conversations this replica is holding, by call id. When the carrier reports that a call ended,
 * its conversation is ended first (transcript flushed, outcome stored), so whoever reads the ended
 * call sees its outcome. (A conversation held by another replica ends when its socket closes.)
 */
export class ActiveConversations {
  readonly #byCall = new Map<string, Conversation>();

  add(callId: string, conversation: Conversation): void {
    this.#byCall.set(callId, conversation);
  }

  has(callId: string): boolean {
    return this.#byCall.has(callId);
  }

  remove(callId: string, conversation: Conversation): void {
    if (this.#byCall.get(callId) === conversation) this.#byCall.delete(callId);
  }

  get size(): number {
    return this.#byCall.size;
  }

  /** Ends the call's conversation as hung up, waiting at most `waitMs` for its outcome to be stored. */
  async callEnded(callId: string, waitMs = 5000): Promise<void> {
    const conversation = this.#byCall.get(callId);
    if (!conversation) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      conversation.hangUp(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Ends every conversation (shutdown): each stores what it has. */
  async endAll(): Promise<void> {
    await Promise.all([...this.#byCall.values()].map((c) => c.hangUp()));
  }
}
