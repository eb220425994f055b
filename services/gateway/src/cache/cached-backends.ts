import type { PromiseClient } from '@callgate/common';
import type { callV1, creditV1 } from '@callgate/protos';
import type { Backends } from '../backends.js';
import type { CacheName, ReadCache } from './read-cache.js';

type CallClient = PromiseClient<callV1.CallServiceDefinition>;
type CreditClient = PromiseClient<creditV1.CreditServiceDefinition>;

/** A client whose named methods are replaced; every other method is the client's own. */
function withMethods<T extends object>(client: T, overrides: Partial<T>): T {
  return new Proxy(client, {
    get: (target, property, receiver) =>
      property in overrides ? overrides[property as keyof T] : Reflect.get(target, property, receiver),
  });
}

/**
 * The backends with cached reads (read-cache.ts): tools and resources call them as before. A read is
 * cached per user (the request's user id is its key) or, for the catalogue, per request; writes made
 * through the gateway drop what they change, here and (through `publish`) on every other replica.
 */
export function cachedBackends(
  backends: Backends,
  cache: ReadCache,
  publish: (cache: CacheName, key: string) => void,
): Backends {
  const drop = (name: CacheName, key: string) => {
    cache.invalidate(name, key);
    publish(name, key);
  };
  const call = backends.call;
  const credit = backends.credit;
  return {
    ...backends,
    forgetBalance: (userId) => cache.invalidate('balance', userId),
    call: withMethods<CallClient>(call, {
      getVoiceOptions: (request, options) =>
        cache.get('options', `voices:${JSON.stringify(request)}`, () => call.getVoiceOptions(request, options)),
      // Placing a call holds credits and cancelling one releases them: the balance changes at once,
      // before any status change reaches the change stream.
      placeCall: async (request, options) => {
        try {
          return await call.placeCall(request, options);
        } finally {
          drop('balance', request.userId ?? '');
        }
      },
      cancelCall: async (request, options) => {
        try {
          return await call.cancelCall(request, options);
        } finally {
          drop('balance', request.userId ?? '');
        }
      },
      getModelOptions: (request, options) =>
        cache.get('options', `models:${JSON.stringify(request)}`, () => call.getModelOptions(request, options)),
    }),
    credit: withMethods<CreditClient>(credit, {
      getProfile: (request, options) =>
        cache.get('profile', request.userId ?? '', () => credit.getProfile(request, options)),
      getPreferences: (request, options) =>
        cache.get('preferences', request.userId ?? '', () => credit.getPreferences(request, options)),
      getBalance: (request, options) =>
        cache.get('balance', request.userId ?? '', () => credit.getBalance(request, options)),
      updatePreferences: async (request, options) => {
        try {
          return await credit.updatePreferences(request, options);
        } finally {
          // Also after a failure: a timed-out update may have been applied.
          drop('preferences', request.userId ?? '');
        }
      },
    }),
  };
}
