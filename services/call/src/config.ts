import { fileURLToPath } from 'node:url';
import { baseConfigShape, env } from '@callgate/common';
import { z } from 'zod';

export const callConfigShape = {
  ...baseConfigShape,
  GRPC_PORT: env.port(50051),
  METRICS_PORT: env.port(9102),
  /** JSON file with the voices and models calls may use (see catalog/options.json). */
  CALL_OPTIONS_FILE: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../catalog/options.json', import.meta.url))),
};

export type CallConfig = z.infer<z.ZodObject<typeof callConfigShape>>;
