output "repository_urls" {
  description = "Repository URL by service."
  value       = { for name, repo in aws_ecr_repository.service : name => repo.repository_url }
}

output "repository_arns" {
  description = "Repository ARN by service (execution roles may pull from their own only)."
  value       = { for name, repo in aws_ecr_repository.service : name => repo.arn }
}
