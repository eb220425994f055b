output "redis_url_secret_arn" {
  description = "Secrets Manager ARN holding REDIS_URL."
  value       = aws_secretsmanager_secret.redis_url.arn
}
