/**
 * A CLIENT span per Sheets API request. The writer batches rows of many calls into one request, sent
 * from its own loop: the span starts its own trace and links to the UpsertCallRow calls whose rows
 * arrived since the previous request (recorded by SheetsSync.upsert), so each call's trace leads to it.
 * One collector per process: a process runs one sheets-sync; a second one would share links, not rows.
 */
import { inSpan, LinkCollector, SpanKind } from '@callgate/common';
import type { SheetsApi } from './sheets-api.js';

const attributes = (method: string, rows: number) => ({
  'rpc.system': 'google_api',
  'rpc.service': 'sheets.v4',
  'rpc.method': method,
  'callgate.sheets.rows': rows,
});

export const upsertLinks = new LinkCollector();

export function tracedSheetsApi(api: SheetsApi): SheetsApi {
  return {
    append: (range, rows) =>
      inSpan(
        'sheets values.append',
        {
          service: 'sheets-sync',
          kind: SpanKind.CLIENT,
          attributes: attributes('values.append', rows.length),
          links: upsertLinks.take(),
        },
        () => api.append(range, rows),
      ),
    batchUpdate: (data) =>
      inSpan(
        'sheets values.batchUpdate',
        {
          service: 'sheets-sync',
          kind: SpanKind.CLIENT,
          attributes: attributes('values.batchUpdate', data.length),
          links: upsertLinks.take(),
        },
        () => api.batchUpdate(data),
      ),
    get: (range) =>
      inSpan(
        'sheets values.get',
        { service: 'sheets-sync', kind: SpanKind.CLIENT, attributes: attributes('values.get', 0) },
        () => api.get(range),
      ),
  };
}
