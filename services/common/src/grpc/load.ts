import {
  type AuthProto,
  type CallProto,
  type CreditProto,
  LOADER_OPTIONS,
  type PollerProto,
  PROTO_FILES,
  PROTO_ROOT,
  type ProtoDomain,
  type SheetsProto,
} from '@callgate/protos';
import { type GrpcObject, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

interface ProtoByDomain {
  auth: AuthProto;
  call: CallProto;
  credit: CreditProto;
  sheets: SheetsProto;
  poller: PollerProto;
}

const cache = new Map<ProtoDomain, { definition: PackageDefinition; pkg: GrpcObject }>();

function load(domain: ProtoDomain) {
  let entry = cache.get(domain);
  if (!entry) {
    const definition = loadSync(PROTO_FILES[domain], { ...LOADER_OPTIONS, includeDirs: [PROTO_ROOT] });
    entry = { definition, pkg: loadPackageDefinition(definition) };
    cache.set(domain, entry);
  }
  return entry;
}

/** One domain's contract from protos/ (parsed once per process) as a typed gRPC package. */
export function loadProto<D extends ProtoDomain>(domain: D): ProtoByDomain[D] {
  return load(domain).pkg as unknown as ProtoByDomain[D];
}

/** The raw package definition, for reflection. */
export function protoDefinition(domain: ProtoDomain): PackageDefinition {
  return load(domain).definition;
}
