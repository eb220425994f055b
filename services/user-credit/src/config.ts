import { baseConfigShape, databaseConfigShape, env } from '@callgate/common';
import type { z } from 'zod';

export const userCreditConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  GRPC_PORT: env.grpcPort(50052),
  METRICS_PORT: env.metricsPort(9103),
};

export type UserCreditConfig = z.infer<z.ZodObject<typeof userCreditConfigShape>>;
