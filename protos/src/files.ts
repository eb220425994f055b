/**
 * The .proto files, relative to PROTO_ROOT. Kept apart from index.ts, which re-exports generated code:
 * the generator (scripts/gen-protos.ts) reads this list before anything is generated (a fresh clone).
 */
/** Each domain's contract, relative to PROTO_ROOT. */
export const PROTO_FILES = {
  auth: 'callgate/auth/v1/auth.proto',
  call: 'callgate/call/v1/call.proto',
  credit: 'callgate/credit/v1/credit.proto',
  sheets: 'callgate/sheets/v1/sheets.proto',
  poller: 'callgate/poller/v1/poller.proto',
} as const;

/** Contracts of messages without a service, relative to PROTO_ROOT: the typed error detail every service sends. */
export const MESSAGE_FILES = {
  errors: 'callgate/common/v1/errors.proto',
  status: 'google/rpc/status.proto',
} as const;
