output "security_group_id" {
  description = "Security group of the service's tasks."
  value       = aws_security_group.service.id
}

output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.service.name
}

output "task_role_arn" {
  description = "Role of the service's code."
  value       = aws_iam_role.task.arn
}

output "log_group_name" {
  description = "CloudWatch Logs group of the service."
  value       = aws_cloudwatch_log_group.service.name
}
