import { type AsyncHandlers, loadProto, protoDefinition, type RegisteredService } from '@callgate/common';
import type { pollerV1 } from '@callgate/protos';

/** What the handlers read and do; the service wires it. */
export interface PollerControl {
  status(): Promise<pollerV1.GetStatusResponse>;
  drain(timeoutMs: number | undefined): Promise<{ finished: number; released: number }>;
}

/** gRPC handlers of callgate.poller.v1.PollerService: thin, they translate and delegate. */
export function pollerGrpcService(control: PollerControl): RegisteredService {
  const definition = loadProto('poller').callgate.poller.v1.PollerService.service;
  const handlers: AsyncHandlers<pollerV1.PollerServiceHandlers> = {
    GetStatus: async () => control.status(),
    Drain: async (request) => control.drain(request.timeoutSeconds > 0 ? request.timeoutSeconds * 1000 : undefined),
  };
  return {
    fullName: 'callgate.poller.v1.PollerService',
    definition,
    handlers,
    packageDefinition: protoDefinition('poller'),
  };
}
