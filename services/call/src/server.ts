import {
  type AsyncHandlers,
  type Catalog,
  findVoices,
  listModels,
  loadProto,
  protoDefinition,
  type RegisteredService,
  unimplemented,
} from '@callgate/common';
import type { callV1 } from '@callgate/protos';

const CALLS_ISSUE = 'not available yet: placing and tracking calls arrives with the calls issue (#4)';

/** gRPC handlers of callgate.call.v1.CallService: thin, they translate and delegate. */
export function callGrpcService(deps: { catalog: Catalog }): RegisteredService {
  const handlers: AsyncHandlers<callV1.CallServiceHandlers> = {
    PlaceCall: async () => {
      throw unimplemented('PlaceCall', CALLS_ISSUE);
    },
    GetCall: async () => {
      throw unimplemented('GetCall', CALLS_ISSUE);
    },
    ListCalls: async () => {
      throw unimplemented('ListCalls', CALLS_ISSUE);
    },
    CancelCall: async () => {
      throw unimplemented('CancelCall', CALLS_ISSUE);
    },
    GetCallProgress: async () => {
      throw unimplemented('GetCallProgress', CALLS_ISSUE);
    },
    WatchCall: async () => {
      throw unimplemented('WatchCall', CALLS_ISSUE);
    },
    RefreshStatus: async () => {
      throw unimplemented('RefreshStatus', CALLS_ISSUE);
    },
    GetVoiceOptions: async (request) => ({
      voices: findVoices(deps.catalog, request),
      defaultVoice: deps.catalog.defaultVoice,
    }),
    GetModelOptions: async () => ({
      models: listModels(deps.catalog),
      defaultModel: deps.catalog.defaultModel,
    }),
  };
  return {
    fullName: 'callgate.call.v1.CallService',
    definition: loadProto('call').callgate.call.v1.CallService.service,
    handlers,
    packageDefinition: protoDefinition('call'),
  };
}
