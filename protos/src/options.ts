import type { Options } from '@grpc/proto-loader';

/**
 * How .proto files are turned into JavaScript objects. The type generator
 * (scripts/gen-protos.ts) reads the same object, so runtime values and
 * generated types always agree.
 */
export const LOADER_OPTIONS = {
  keepCase: false,
  // Credits and counters fit in 2^53; numbers keep handlers free of Long.
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies Options;
