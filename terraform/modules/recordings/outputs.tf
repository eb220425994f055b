output "bucket_name" {
  description = "Name of the recordings bucket."
  value       = aws_s3_bucket.recordings.bucket
}

output "bucket_arn" {
  description = "ARN of the recordings bucket (IAM policies)."
  value       = aws_s3_bucket.recordings.arn
}
