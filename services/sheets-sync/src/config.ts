import { baseConfigShape, env } from '@callgate/common';
import type { z } from 'zod';

export const sheetsSyncConfigShape = {
  ...baseConfigShape,
  GRPC_PORT: env.port(50053),
  METRICS_PORT: env.port(9104),
};

export type SheetsSyncConfig = z.infer<z.ZodObject<typeof sheetsSyncConfigShape>>;
