import { loadProto, protoDefinition, type RegisteredService, unimplementedHandlers } from '@callgate/common';
import type { sheetsV1 } from '@callgate/protos';

/** gRPC handlers of callgate.sheets.v1.SheetsSyncService: thin, they translate and delegate. */
export function sheetssyncGrpcService(): RegisteredService {
  const definition = loadProto('sheets').callgate.sheets.v1.SheetsSyncService.service;
  return {
    fullName: 'callgate.sheets.v1.SheetsSyncService',
    definition,
    handlers: unimplementedHandlers<sheetsV1.SheetsSyncServiceHandlers>(
      definition,
      'not available yet: mirroring calls to Google Sheets arrives with the sheets-sync issue (#7)',
    ),
    packageDefinition: protoDefinition('sheets'),
  };
}
