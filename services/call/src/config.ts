import { baseConfigShape, callerIdsConfigShape, catalogConfigShape, databaseConfigShape, env } from '@callgate/common';
import type { z } from 'zod';

export const callConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  GRPC_PORT: env.grpcPort(50051),
  METRICS_PORT: env.metricsPort(9102),
  ...catalogConfigShape,
  ...callerIdsConfigShape,
};

export type CallConfig = z.infer<z.ZodObject<typeof callConfigShape>>;
