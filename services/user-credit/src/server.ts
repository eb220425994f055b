import type { Database } from '@callgate/common';
import { type AsyncHandlers, loadProto, protoDefinition, type RegisteredService } from '@callgate/common';
import type { creditV1 } from '@callgate/protos';
import type { Ledger } from './ledger.js';
import type { PreferencesStore } from './preferences.js';
import { listUsage } from './usage.js';
import type { Users } from './users.js';

export interface CreditDeps {
  db: Database;
  users: Users;
  preferences: PreferencesStore;
  ledger: Ledger;
}

/** gRPC handlers of callgate.credit.v1.CreditService: thin, they translate and delegate. */
export function usercreditGrpcService(deps: CreditDeps): RegisteredService {
  const handlers: AsyncHandlers<creditV1.CreditServiceHandlers> = {
    GetUser: (request) => deps.users.get(request),
    GetProfile: async (request) => ({ profile: await deps.users.profile(request.userId) }),
    GetPreferences: async (request) => ({ preferences: await deps.preferences.get(request.userId) }),
    UpdatePreferences: async (request) => ({
      preferences: await deps.preferences.update(request.userId, request.patch ?? { quietHours: null }),
    }),
    GetBalance: async (request) => ({ balance: await deps.ledger.balance(request.userId) }),
    ListUsage: (request) => listUsage(deps.db, request),
    Reserve: (request) => deps.ledger.reserve(request),
    Settle: (request) => deps.ledger.settle(request),
    Release: (request) => deps.ledger.release(request),
    Grant: (request) => deps.ledger.grant(request),
  };
  const definition = loadProto('credit').callgate.credit.v1.CreditService.service;
  return {
    fullName: 'callgate.credit.v1.CreditService',
    definition,
    handlers,
    packageDefinition: protoDefinition('credit'),
  };
}
