# Call recordings: private (all public access blocked, ACLs disabled), encrypted at rest with a KMS key of
# their own (SSE-KMS), TLS-only access, and deleted after the retention period. Not versioned: a deletion
# (on request, or by the call service's retention job) must remove the audio, not hide it behind a delete
# marker. Only the call service's task role is granted access (modules/stack/iam.tf).

resource "aws_kms_key" "recordings" {
  description             = "Encrypts call recordings (${var.bucket_name})."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = var.tags
}

resource "aws_kms_alias" "recordings" {
  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.recordings.key_id
}

resource "aws_s3_bucket" "recordings" {
  bucket = var.bucket_name
  tags   = var.tags
}

resource "aws_s3_bucket_public_access_block" "recordings" {
  bucket                  = aws_s3_bucket.recordings.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "recordings" {
  bucket = aws_s3_bucket.recordings.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "recordings" {
  bucket = aws_s3_bucket.recordings.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.recordings.arn
    }
    # One data key per bucket rather than a KMS request per object.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "recordings" {
  bucket = aws_s3_bucket.recordings.id

  # Suspended (not Enabled): a deleted recording must be gone, not kept as a noncurrent version.
  versioning_configuration {
    status = "Suspended"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "recordings" {
  bucket = aws_s3_bucket.recordings.id

  rule {
    id     = "recordings-retention"
    status = "Enabled"

    filter {
      prefix = "recordings/"
    }

    # Only when it comes before the expiry (a transition on or after it is refused by S3).
    dynamic "transition" {
      for_each = var.infrequent_access_after_days < var.retention_days ? [var.infrequent_access_after_days] : []
      content {
        days          = transition.value
        storage_class = "STANDARD_IA"
      }
    }

    expiration {
      days = var.retention_days
    }

    # Versions left from when the bucket was versioned.
    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.recordings.arn, "${aws_s3_bucket.recordings.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "recordings" {
  bucket = aws_s3_bucket.recordings.id
  policy = data.aws_iam_policy_document.tls_only.json

  depends_on = [aws_s3_bucket_public_access_block.recordings]
}
