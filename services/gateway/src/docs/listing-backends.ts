/**
 * Backends for the server the documentation is read from: it serves no user, so it reaches no service.
 * resources/list also runs the resource templates' list callbacks (a user's recent calls); here they
 * find an empty history, so the listing holds exactly the fixed resources. Any other call fails loudly:
 * documentation that needed data would be a bug.
 */
import type { Backends } from '../backends.js';

const refuse = (method: string) => () =>
  Promise.reject(new Error(`the documentation listing reads no data (it called ${method})`));

/** A client whose every method refuses, except those given. */
function client(answers: Record<string, () => Promise<unknown>>): unknown {
  return new Proxy(
    {},
    {
      get: (_target, property) => {
        // Not a thenable: awaiting the client must not call a refusing 'then'.
        if (typeof property !== 'string' || property === 'then') return undefined;
        if (property === 'close') return () => {};
        return answers[property] ?? refuse(property);
      },
    },
  );
}

export function listingBackends(): Backends {
  return {
    call: client({ listCalls: async () => ({ calls: [], nextPageToken: '' }) }),
    credit: client({}),
    users: { ensure: async () => 'callgate-docs' },
  } as unknown as Backends;
}
