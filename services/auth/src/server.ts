import {
  type AsyncHandlers,
  type Database,
  DomainError,
  invalidArgument,
  loadProto,
  protoDefinition,
  type RegisteredService,
} from '@callgate/common';
import type { authV1 } from '@callgate/protos';
import { checkAccess } from './access.js';
import type { Grants } from './grants.js';
import {
  NoSuchAccount,
  type PersonalToken,
  PersonalTokenLimit,
  PersonalTokenProblem,
  type PersonalTokens,
} from './personal-tokens.js';

/** The user a request is for: the gateway passes the `sub` of the token it verified. */
function userOf(request: { userId: string }): string {
  if (!request.userId || request.userId.length > 256 || request.userId.includes('\u0000')) {
    throw invalidArgument('userId', 'required: the account id of the verified token');
  }
  return request.userId;
}

const tokenView = (info: PersonalToken): authV1.PersonalToken => ({
  tokenId: info.tokenId,
  name: info.name,
  scopes: info.scopes,
  createdAt: info.createdAt.toISOString(),
  expiresAt: info.expiresAt.toISOString(),
  lastUsedAt: info.lastUsedAt?.toISOString() ?? '',
});

/** gRPC handlers of callgate.auth.v1.AuthService: thin, they translate and delegate. */
export function authGrpcService(deps: {
  db: Database;
  personalTokens: PersonalTokens;
  grants: Grants;
}): RegisteredService {
  const handlers: AsyncHandlers<authV1.AuthServiceHandlers> = {
    CheckAccess: async (request) => {
      const verdict = await checkAccess(deps.db, request);
      if (verdict.active && request.grantId) await deps.grants.touch(request.grantId);
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
    ListGrants: async (request) => ({
      grants: (await deps.grants.list(userOf(request))).map((g) => ({
        grantId: g.grantId,
        clientId: g.clientId,
        clientName: g.clientName,
        scopes: g.scopes,
        grantedAt: g.grantedAt.toISOString(),
        lastUsedAt: g.lastUsedAt?.toISOString() ?? '',
      })),
    }),
    RevokeGrant: async (request) => {
      // One answer for "not yours" and "no such grant": the caller learns nothing about other accounts.
      if (!(await deps.grants.revoke(userOf(request), request.grantId))) {
        throw new DomainError('not_found', 'connected app not found: you have no grant with this id');
      }
      return {};
    },
    ListPersonalTokens: async (request) => ({
      tokens: (await deps.personalTokens.listLive(userOf(request))).map(tokenView),
    }),
    CreatePersonalToken: async (request) => {
      try {
        const { token, info } = await deps.personalTokens.create(userOf(request), {
          name: request.name,
          scopes: request.scopes,
          days: request.expiresInDays,
        });
        return { info: tokenView(info), token };
      } catch (error) {
        // Not RESOURCE_EXHAUSTED: that reads "retry in a few seconds", and waiting does not help here.
        if (error instanceof PersonalTokenLimit) throw new DomainError('failed_precondition', error.message);
        if (error instanceof NoSuchAccount) {
          throw new DomainError(
            'not_found',
            'account not found at the authorization server: personal access tokens belong to accounts that sign in there',
          );
        }
        if (error instanceof PersonalTokenProblem) {
          const [field, ...rest] = error.message.split(': ');
          return Promise.reject(invalidArgument(field ?? 'request', rest.join(': ') || error.message));
        }
        throw error;
      }
    },
    RevokePersonalToken: async (request) => {
      const tokenId = request.tokenId;
      const revoked =
        tokenId.length <= 64 &&
        !tokenId.includes('\u0000') &&
        (await deps.personalTokens.revoke(userOf(request), tokenId));
      if (!revoked)
        throw new DomainError('not_found', 'personal access token not found: you have no live token with this id');
      return {};
    },
  };
  return {
    fullName: 'callgate.auth.v1.AuthService',
    definition: loadProto('auth').callgate.auth.v1.AuthService.service,
    handlers,
    packageDefinition: protoDefinition('auth'),
  };
}
