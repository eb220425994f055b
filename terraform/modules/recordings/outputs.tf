output "bucket_name" {
  description = "Name of the recordings bucket."
  value       = aws_s3_bucket.recordings.bucket
}

output "bucket_arn" {
  description = "ARN of the recordings bucket (IAM policies)."
  value       = aws_s3_bucket.recordings.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key recordings are encrypted with (IAM policies, RECORDINGS_KMS_KEY_ID)."
  value       = aws_kms_key.recordings.arn
}
