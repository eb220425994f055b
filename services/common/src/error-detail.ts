import path from 'node:path';
import { type commonV1, LOADER_OPTIONS, MESSAGE_FILES, PROTO_ROOT } from '@callgate/protos';
import type { Metadata } from '@grpc/grpc-js';
// protobufjs (the library @grpc/proto-loader parses .proto files with) encodes the two messages that
// travel in a trailer rather than as an RPC's request or response, which proto-loader gives no codec for.
import protobuf from 'protobufjs';

/** The typed detail of a failure (callgate.common.v1.ErrorDetail in protos/callgate/common/v1/errors.proto). */
export type ErrorDetail = commonV1.ErrorDetail__Output;
export type ErrorReason = commonV1.ErrorReason__Output;

/** The standard trailer of the rich error model: a serialized google.rpc.Status. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const DETAIL_TYPE_URL = 'type.googleapis.com/callgate.common.v1.ErrorDetail';

let types: { status: protobuf.Type; detail: protobuf.Type } | undefined;
function codec() {
  if (!types) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_ROOT, target));
    root.loadSync([MESSAGE_FILES.errors, MESSAGE_FILES.status], { keepCase: LOADER_OPTIONS.keepCase });
    types = { status: root.lookupType('google.rpc.Status'), detail: root.lookupType('callgate.common.v1.ErrorDetail') };
  }
  return types;
}

const TO_OBJECT = { enums: String, longs: Number, defaults: true } as const;

/** A google.rpc.Status (code, message, one ErrorDetail) as the bytes of the grpc-status-details-bin trailer. */
export function encodeStatusDetails(code: number, message: string, detail: ErrorDetail): Buffer {
  const { status, detail: Detail } = codec();
  const value = Detail.encode(Detail.fromObject(detail)).finish();
  return Buffer.from(
    status.encode(status.fromObject({ code, message, details: [{ type_url: DETAIL_TYPE_URL, value }] })).finish(),
  );
}

/**
 * The ErrorDetail a failed call carries, or undefined when it carries none (a failure relayed from another
 * tier, a transport error, a service of another kind). The one reader of error details: callers act on
 * its reason and figures, never on the message or a numeric code.
 */
export function errorDetailOf(error: unknown): ErrorDetail | undefined {
  const metadata = (error as { metadata?: unknown } | null)?.metadata as Metadata | undefined;
  const raw = typeof metadata?.get === 'function' ? metadata.get(STATUS_DETAILS_KEY)[0] : undefined;
  if (!Buffer.isBuffer(raw)) return undefined;
  try {
    const { status, detail: Detail } = codec();
    const decoded = status.toObject(status.decode(raw), TO_OBJECT) as {
      details?: { type_url?: string; typeUrl?: string; value: Uint8Array }[];
    };
    const any = decoded.details?.find((d) => (d.type_url ?? d.typeUrl) === DETAIL_TYPE_URL);
    return any ? (Detail.toObject(Detail.decode(any.value), TO_OBJECT) as ErrorDetail) : undefined;
  } catch {
    return undefined; // not ours, or damaged: as if absent
  }
}

/** The string view of a detail (field, needed, available, not-placed, carrier-status, carrier-code, outcome): for logs and test assertions. */
export function errorDetailStrings(d: ErrorDetail): Record<string, string> {
  const legacy: Record<string, string> = {};
  if (d.field) legacy.field = d.field;
  if (d.neededCredits !== undefined) legacy.needed = String(d.neededCredits);
  if (d.availableCredits !== undefined) legacy.available = String(d.availableCredits);
  if (d.notPlaced) legacy['not-placed'] = 'true';
  if (d.carrierStatus !== undefined) legacy['carrier-status'] = String(d.carrierStatus);
  if (d.carrierCode !== undefined) legacy['carrier-code'] = String(d.carrierCode);
  if (d.outcomeUnknown) legacy.outcome = 'unknown';
  return legacy;
}
