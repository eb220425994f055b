output "database_url_secret_arn" {
  description = "Secrets Manager ARN holding DATABASE_URL."
  value       = aws_secretsmanager_secret.database_url.arn
}

output "instance_identifier" {
  description = "RDS instance identifier (null with an external database)."
  value       = local.create ? aws_db_instance.this[0].identifier : null
}
