import { baseConfigShape, databaseConfigShape, env } from '@callgate/common';
import type { z } from 'zod';

export const sheetsSyncConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  GRPC_PORT: env.grpcPort(50053),
  METRICS_PORT: env.metricsPort(9104),
};

export type SheetsSyncConfig = z.infer<z.ZodObject<typeof sheetsSyncConfigShape>>;
