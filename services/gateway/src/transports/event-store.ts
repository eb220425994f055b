import type { EventStore, JSONRPCMessage } from '@modelcontextprotocol/server';

/**
 * One session's SSE events, kept so a client that lost its stream can resume with Last-Event-ID
 * (2025-11-25 Streamable HTTP) and miss nothing, e.g. the result of a long makePhoneCall wait. Bounded:
 * the oldest events go first; resuming from an event no longer kept is refused (the client re-reads).
 */
export class SessionEventStore implements EventStore {
  private readonly events: { id: string; streamId: string; message: JSONRPCMessage }[] = [];
  private next = 0;

  constructor(private readonly capacity = 500) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${++this.next}`;
    this.events.push({ id, streamId, message });
    if (this.events.length > this.capacity) this.events.shift();
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.find((e) => e.id === eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const index = this.events.findIndex((e) => e.id === lastEventId);
    const last = this.events[index];
    if (!last) throw new Error(`event ${lastEventId} is no longer kept; read the resource or call again`);
    for (const event of this.events.slice(index + 1)) {
      if (event.streamId === last.streamId) await send(event.id, event.message);
    }
    return last.streamId;
  }
}
