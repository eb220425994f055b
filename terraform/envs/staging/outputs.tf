output "mcp_url" {
  description = "The public MCP endpoint."
  value       = module.callgate.mcp_url
}

output "alb_dns_name" {
  description = "Point the public host name at this."
  value       = module.callgate.alb_dns_name
}

output "ecr_repository_urls" {
  description = "Where CI pushes images."
  value       = module.callgate.ecr_repository_urls
}

output "cluster_name" {
  description = "ECS cluster."
  value       = module.callgate.cluster_name
}

output "secrets_to_set" {
  description = "Secrets an operator fills before the first deployment."
  value       = module.callgate.secrets_to_set
}

output "ses_dkim_records" {
  description = "CNAME records to publish for the mail domain (SES verification)."
  value       = module.callgate.ses_dkim_records
}

output "console_url" {
  description = "The web console."
  value       = module.callgate.console_url
}

output "console_bucket" {
  description = "Bucket of the console's static files (the deploy uploads the build)."
  value       = module.callgate.console_bucket
}

output "console_distribution_id" {
  description = "CloudFront distribution of the console (the deploy invalidates it)."
  value       = module.callgate.console_distribution_id
}

output "console_distribution_domain_name" {
  description = "Point console_host at this."
  value       = module.callgate.console_distribution_domain_name
}

output "console_config_json" {
  description = "The console's /console-config.json (the deploy uploads it)."
  value       = module.callgate.console_config_json
}
