import { baseConfigShape, databaseConfigShape, env, sqsConfigShape } from '@callgate/common';
import type { z } from 'zod';

export const pollerConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  GRPC_PORT: env.grpcPort(50054),
  METRICS_PORT: env.metricsPort(9105),
  ...sqsConfigShape,
};

export type PollerConfig = z.infer<z.ZodObject<typeof pollerConfigShape>>;
