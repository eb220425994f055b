output "url" {
  description = "The console's public URL."
  value       = "https://${var.console_host}"
}

output "bucket_name" {
  description = "Bucket the deploy uploads the console's build and /console-config.json to."
  value       = aws_s3_bucket.console.bucket
}

output "distribution_id" {
  description = "Distribution the deploy invalidates (/index.html, /console-config.json)."
  value       = aws_cloudfront_distribution.console.id
}

output "distribution_domain_name" {
  description = "Point console_host (CNAME or alias) at this."
  value       = aws_cloudfront_distribution.console.domain_name
}

output "distribution_zone_id" {
  description = "Route 53 hosted zone of CloudFront (alias records)."
  value       = aws_cloudfront_distribution.console.hosted_zone_id
}
