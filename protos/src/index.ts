import { createRequire } from 'node:module';
import path from 'node:path';

export { LOADER_OPTIONS } from './options.js';

const require = createRequire(import.meta.url);

/** Directory that .proto imports are resolved against (the package root). */
export const PROTO_ROOT = path.dirname(require.resolve('@callgate/protos/package.json'));

/** Each domain's contract, relative to PROTO_ROOT. */
export const PROTO_FILES = {
  call: 'callgate/call/v1/call.proto',
  credit: 'callgate/credit/v1/credit.proto',
  sheets: 'callgate/sheets/v1/sheets.proto',
  poller: 'callgate/poller/v1/poller.proto',
} as const;

export type ProtoDomain = keyof typeof PROTO_FILES;

/** Contracts of messages without a service, relative to PROTO_ROOT: the typed error detail every service sends. */
export const MESSAGE_FILES = {
  errors: 'callgate/common/v1/errors.proto',
  status: 'google/rpc/status.proto',
} as const;

export type { ProtoGrpcType as CallProto } from '../gen/call.js';
/** The call status enum as generated from call.proto: the source of @callgate/common's status vocabulary. */
export { CallStatus as CallStatusEnum } from '../gen/callgate/call/v1/CallStatus.js';
export type * as callV1 from '../gen/callgate/call/v1/index.js';
export type * as commonV1 from '../gen/callgate/common/v1/index.js';
export type * as creditV1 from '../gen/callgate/credit/v1/index.js';
export type * as pollerV1 from '../gen/callgate/poller/v1/index.js';
export type * as sheetsV1 from '../gen/callgate/sheets/v1/index.js';
export type { ProtoGrpcType as CreditProto } from '../gen/credit.js';
export type { ProtoGrpcType as PollerProto } from '../gen/poller.js';
export type { ProtoGrpcType as SheetsProto } from '../gen/sheets.js';
