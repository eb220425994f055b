import { baseConfigShape, env } from '@callgate/common';
import type { z } from 'zod';

export const userCreditConfigShape = {
  ...baseConfigShape,
  GRPC_PORT: env.port(50052),
  METRICS_PORT: env.port(9103),
};

export type UserCreditConfig = z.infer<z.ZodObject<typeof userCreditConfigShape>>;
