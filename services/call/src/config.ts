import { baseConfigShape, databaseConfigShape, env } from '@callgate/common';
import { z } from 'zod';

export const callConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  GRPC_PORT: env.grpcPort(50051),
  METRICS_PORT: env.metricsPort(9102),
  CALL_OPTIONS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('JSON file with the voices and models calls may use. Unset: the bundled catalog/options.json.'),
};

export type CallConfig = z.infer<z.ZodObject<typeof callConfigShape>>;
