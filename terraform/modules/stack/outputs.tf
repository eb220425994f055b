output "alb_dns_name" {
  description = "Point public_host (CNAME or alias) at this."
  value       = module.alb.dns_name
}

output "alb_zone_id" {
  description = "Route 53 hosted zone of the ALB (alias records)."
  value       = module.alb.zone_id
}

output "mcp_url" {
  description = "The public MCP endpoint."
  value       = "https://${var.public_host}/mcp"
}

output "ecr_repository_urls" {
  description = "Where CI pushes each service's image."
  value       = module.ecr.repository_urls
}

output "cluster_name" {
  description = "ECS cluster of the services."
  value       = aws_ecs_cluster.this.name
}

output "queue_url" {
  description = "The call-status queue."
  value       = module.queue.queue_url
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = aws_sns_topic.alarms.arn
}

output "secrets_to_set" {
  description = "Secrets Manager secrets an operator must fill before the first deployment."
  value       = { for key, secret in aws_secretsmanager_secret.external : key => secret.arn }
}

output "recordings_bucket" {
  description = "Bucket of call recordings."
  value       = module.recordings.bucket_name
}

output "ses_dkim_records" {
  description = "CNAME records to publish in mail_domain's DNS so that SES verifies it: <token>._domainkey.<mail_domain> -> <token>.dkim.amazonses.com."
  value       = { for token in aws_sesv2_email_identity.mail.dkim_signing_attributes[0].tokens : "${token}._domainkey.${var.mail_domain}" => "${token}.dkim.amazonses.com" }
}

output "console_url" {
  description = "The web console."
  value       = module.console.url
}

output "console_bucket" {
  description = "Bucket the deploy uploads the console's build to."
  value       = module.console.bucket_name
}

output "console_distribution_id" {
  description = "CloudFront distribution of the console (the deploy invalidates /index.html and /console-config.json)."
  value       = module.console.distribution_id
}

output "console_distribution_domain_name" {
  description = "Point console_host (CNAME or alias) at this."
  value       = module.console.distribution_domain_name
}

output "console_config_json" {
  description = "The console's /console-config.json for this environment (the deploy uploads it)."
  value       = jsonencode(local.console_config)
}
