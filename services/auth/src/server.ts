import {
  type AsyncHandlers,
  type Database,
  DomainError,
  loadProto,
  protoDefinition,
  type RegisteredService,
} from '@callgate/common';
import type { authV1 } from '@callgate/protos';
import { checkAccess } from './access.js';
import type { PersonalTokens } from './personal-tokens.js';

/** gRPC handlers of callgate.auth.v1.AuthService: thin, they translate and delegate. */
export function authGrpcService(deps: { db: Database; personalTokens: PersonalTokens }): RegisteredService {
  const handlers: AsyncHandlers<authV1.AuthServiceHandlers> = {
    CheckAccess: async (request) => {
      const verdict = await checkAccess(deps.db, request);
      return verdict.active ? { active: true, reason: '' } : verdict;
    },
    VerifyPersonalToken: async (request) => {
      const found = await deps.personalTokens.verify(request.token);
      if (!found) {
        throw new DomainError('unauthenticated', 'the personal access token is unknown, expired or revoked');
      }
      return {
        userId: found.accountId,
        scopes: found.info.scopes,
        expiresAt: found.info.expiresAt.toISOString(),
        tokenId: found.info.tokenId,
      };
    },
  };
  return {
    fullName: 'callgate.auth.v1.AuthService',
    definition: loadProto('auth').callgate.auth.v1.AuthService.service,
    handlers,
    packageDefinition: protoDefinition('auth'),
  };
}
