output "security_group_id" {
  description = "Security group of the ALB (targets admit traffic from it)."
  value       = aws_security_group.alb.id
}

output "dns_name" {
  description = "DNS name of the ALB (point the public host name at it)."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route 53 zone of the ALB (alias records)."
  value       = aws_lb.this.zone_id
}

output "arn_suffix" {
  description = "ARN suffix of the ALB (CloudWatch dimensions)."
  value       = aws_lb.this.arn_suffix
}

output "gateway_target_group_arn" {
  description = "Target group of the gateway's HTTP port."
  value       = aws_lb_target_group.gateway.arn
}

output "gateway_target_group_arn_suffix" {
  description = "ARN suffix of the gateway target group (request-count autoscaling)."
  value       = aws_lb_target_group.gateway.arn_suffix
}

output "call_webhooks_target_group_arn" {
  description = "Target group of the call service's webhook port."
  value       = aws_lb_target_group.call_webhooks.arn
}

output "auth_target_group_arn" {
  description = "Target group of the auth service's HTTP port (the authorization server)."
  value       = aws_lb_target_group.auth.arn
}

output "auth_paths" {
  description = "The authorization server's public paths this ALB routes to the auth service (the console's distribution routes the same ones)."
  value       = local.auth_paths
}
