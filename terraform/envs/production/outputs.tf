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
