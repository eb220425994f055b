import { loadProto, protoDefinition, type RegisteredService, unimplementedHandlers } from '@callgate/common';
import type { pollerV1 } from '@callgate/protos';

/** gRPC handlers of callgate.poller.v1.PollerService: thin, they translate and delegate. */
export function pollerGrpcService(): RegisteredService {
  const definition = loadProto('poller').callgate.poller.v1.PollerService.service;
  return {
    fullName: 'callgate.poller.v1.PollerService',
    definition,
    handlers: unimplementedHandlers<pollerV1.PollerServiceHandlers>(
      definition,
      'not available yet: consuming the call-status queue arrives with the poller issue (#8)',
    ),
    packageDefinition: protoDefinition('poller'),
  };
}
