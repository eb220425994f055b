output "arn" {
  description = "ARN of the web ACL (an ALB association, or a distribution's web_acl_id)."
  value       = aws_wafv2_web_acl.this.arn
}
