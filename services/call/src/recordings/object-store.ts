import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface RecordingObjectsOptions {
  bucket: string;
  region: string;
  /** An S3-compatible endpoint (the local emulator): path-style requests and local credentials. */
  endpoint?: string;
  /** SSE-KMS with this key; without it SSE-S3 (AES256). Every object is encrypted at rest either way. */
  kmsKeyId?: string;
}

/** The S3 key of a call's recording: one object per call, under its user (a prefix per user for audits). */
export function recordingKey(userId: string, callId: string, extension: string): string {
  return `recordings/${encodeURIComponent(userId)}/${callId}.${extension}`;
}

/**
 * Call recordings in S3 through @aws-sdk/client-s3: put with server-side encryption and the audio's
 * content type, read, delete, and pre-signed GET URLs. The one place that knows the bucket.
 */
export class RecordingObjects {
  readonly s3: S3Client;

  constructor(private readonly options: RecordingObjectsOptions) {
    this.s3 = new S3Client({
      region: options.region,
      ...(options.endpoint && {
        endpoint: options.endpoint,
        forcePathStyle: true,
        // An emulator accepts any signature; AWS credentials come from the usual chain (the task role) otherwise.
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        },
      }),
    });
  }

  get bucket(): string {
    return this.options.bucket;
  }

  /** Creates the bucket on an emulator when missing (production buckets come from Terraform). */
  async ensureLocalBucket(): Promise<void> {
    if (!this.options.endpoint) return;
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    }
  }

  /** Writes (or overwrites: a retried store leaves one object) the audio, encrypted at rest. */
  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: body.byteLength,
        ...(this.options.kmsKeyId
          ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.options.kmsKeyId }
          : { ServerSideEncryption: 'AES256' }),
      }),
    );
  }

  /** The object's bytes, or undefined when there is none. */
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return object.Body ? await object.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404))
        return undefined;
      throw error;
    }
  }

  /** Deletes the object; deleting one that is gone is no error (S3's own semantics). */
  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** A GET URL for the object that works without credentials from `signedAt` until `expiresInSeconds` later. */
  presignedUrl(key: string, expiresInSeconds: number, signedAt: Date): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresInSeconds,
      signingDate: signedAt,
    });
  }

  close(): void {
    this.s3.destroy();
  }
}
