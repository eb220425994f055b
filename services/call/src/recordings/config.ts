import { env } from '@callgate/common';
import { z } from 'zod';

const MIB = 1024 * 1024;
const days = (fallback: number) => z.coerce.number().int().min(1).max(3650).default(fallback);

/** Recordings (S3, fetch retries) and retention of recordings and transcripts: the call service's part of issue 22. */
export const recordingConfigShape = {
  RECORDINGS_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
    .default('callgate-recordings')
    .describe('S3 bucket of call recordings (production: the Terraform bucket, SSE-KMS, TLS only).'),
  RECORDINGS_KMS_KEY_ID: z
    .string()
    .min(1)
    .optional()
    .describe('KMS key (id or ARN) each recording is encrypted with (SSE-KMS). Unset: SSE-S3 (AES256).'),
  S3_ENDPOINT: env
    .url()
    .optional()
    .describe('An S3-compatible endpoint (the local emulator, path-style). Unset: AWS S3 in AWS_REGION.'),
  RECORDING_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .max(86_400)
    .default(300)
    .describe("How long a recording's pre-signed URL (getCallDetails) stays valid, in seconds."),
  RECORDING_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(MIB)
    .max(1024 * MIB)
    .default(200 * MIB)
    .describe('Largest recording fetched from the carrier (a dual-channel WAV is about 115 MiB per hour).'),
  RECORDING_INLINE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(3 * MIB)
    .default(3 * MIB)
    .describe(
      'Largest recording the callgate://calls/{callId}/recording resource returns inline (gRPC messages are at most 4 MiB); larger ones are read through their pre-signed URL.',
    ),
  RECORDING_FETCH_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(10)
    .describe('Fetches of a recording from the carrier before it is reported failed (and alerted on).'),
  RECORDING_FETCH_BACKOFF_MS: env
    .milliseconds(15_000)
    .describe('Wait after the first failed fetch of a recording; doubled after each further failure.'),
  RECORDING_FETCH_MAX_BACKOFF_MS: env
    .milliseconds(3_600_000)
    .describe('Longest wait between two fetches of a recording.'),
  RECORDING_SWEEP_INTERVAL_MS: env
    .milliseconds(10_000)
    .describe('How often recordings due for a (re)fetch or a carrier-side delete are looked for.'),
  RECORDING_RETENTION_DAYS: days(30).describe(
    'Days a stored recording is kept before the retention job deletes it (the S3 lifecycle expires it too).',
  ),
  TRANSCRIPT_RETENTION_DAYS: days(90).describe(
    "Days after a call's end its transcript (turns, outcome summary and learned fields) is kept before the retention job deletes it.",
  ),
  RETENTION_INTERVAL_MS: env
    .milliseconds(3_600_000)
    .describe('How often the retention job runs (one replica at a time, by a lease).'),
  RETENTION_LEASE_MS: env
    .milliseconds(600_000)
    .describe('How long the retention lease lasts unless renewed: a dead holder is replaced within it.'),
};

export type RecordingConfig = z.infer<z.ZodObject<typeof recordingConfigShape>>;
