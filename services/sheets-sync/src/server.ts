import { type AsyncHandlers, loadProto, protoDefinition, type RegisteredService } from '@callgate/common';
import type { sheetsV1 } from '@callgate/protos';
import type { SheetsSync } from './sync.js';

/** gRPC handlers of callgate.sheets.v1.SheetsSyncService: thin, they translate and delegate. */
export function sheetssyncGrpcService(sync: SheetsSync): RegisteredService {
  const handlers: AsyncHandlers<sheetsV1.SheetsSyncServiceHandlers> = {
    UpsertCallRow: (request) => sync.upsert(request.row),
    GetSyncStatus: () => sync.status(),
  };
  const definition = loadProto('sheets').callgate.sheets.v1.SheetsSyncService.service;
  return {
    fullName: 'callgate.sheets.v1.SheetsSyncService',
    definition,
    handlers,
    packageDefinition: protoDefinition('sheets'),
  };
}
