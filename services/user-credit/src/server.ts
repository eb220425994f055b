import { loadProto, protoDefinition, type RegisteredService, unimplementedHandlers } from '@callgate/common';
import type { creditV1 } from '@callgate/protos';

/** gRPC handlers of callgate.credit.v1.CreditService: thin, they translate and delegate. */
export function usercreditGrpcService(): RegisteredService {
  const definition = loadProto('credit').callgate.credit.v1.CreditService.service;
  return {
    fullName: 'callgate.credit.v1.CreditService',
    definition,
    handlers: unimplementedHandlers<creditV1.CreditServiceHandlers>(
      definition,
      'not available yet: users, preferences and the credit ledger arrive with the user-credit issue (#5)',
    ),
    packageDefinition: protoDefinition('credit'),
  };
}
