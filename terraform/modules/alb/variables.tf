variable "name" {
  type        = string
  description = "Prefix of every resource name."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the load balancer."
}

variable "vpc_cidr_block" {
  type        = string
  description = "CIDR of the VPC: the ALB may only send traffic into it."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets (one per AZ) for the internet-facing ALB."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate of the public host name (HTTPS listener)."
}

variable "idle_timeout_seconds" {
  type        = number
  description = "ALB idle timeout; long enough for quiet SSE streams and WebSockets between pings (WS_PING_INTERVAL_MS)."
  default     = 3600
}

variable "stickiness_seconds" {
  type        = number
  description = "Cookie stickiness: older MCP clients' sessions live in one gateway replica's memory."
  default     = 86400
}

variable "waf_rate_limit_per_5_minutes" {
  type        = number
  description = "Requests per client IP per 5 minutes before WAF blocks it (coarse flood protection; per-user limits are the gateway's)."
  default     = 3000
}

variable "waf_sign_in_limit_per_5_minutes" {
  type        = number
  description = "Requests per client IP per 5 minutes to the sign-in, sign-up and password-reset pages before WAF blocks it (against password guessing from one address; the auth service also limits per address and per account)."
  default     = 300
}

variable "server_error_rate_alarm" {
  type        = number
  description = "Share of requests answered 5xx (by targets or the ALB) that raises the alarm."
  default     = 0.02
}

variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic the alarms notify."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the ALB (production)."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
