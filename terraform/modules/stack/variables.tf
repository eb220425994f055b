variable "environment" {
  type        = string
  description = "Environment name: staging or production (part of every resource name)."

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "environment must be staging or production."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the stack."
}

variable "public_host" {
  type        = string
  description = "Public host name of the gateway (MCP at https://<public_host>/mcp); the ACM certificate covers it."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for public_host, in the stack's region."
}

variable "image_tag" {
  type        = string
  description = "Image tag (git SHA) deployed for every service; the CI deploy sets it."
}

variable "vpc_cidr_block" {
  type        = string
  description = "CIDR block of the VPC."
  default     = "10.40.0.0/16"
}

variable "az_count" {
  type        = number
  description = "Availability zones used."
  default     = 2
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway instead of one per AZ (cheaper; for staging)."
  default     = false
}

variable "jwt_jwks_url" {
  type        = string
  description = "JWKS URL of an identity provider of your own whose tokens the gateway accepts besides the auth service's (JWT_JWKS_URL); null: only the auth service's."
  default     = null
}

variable "jwt_issuer" {
  type        = string
  description = "Required iss of that identity provider's tokens (JWT_ISSUER); set it with jwt_jwks_url."
  default     = null
}

variable "mail_domain" {
  type        = string
  description = "Domain account mail is sent from (no-reply@<mail_domain>); an SES identity is created for it."
}

variable "mail_from_name" {
  type        = string
  description = "Display name of the sender of account mail."
  default     = "callgate"
}

variable "jwt_audience" {
  type        = string
  description = "Required aud of access tokens (JWT_AUDIENCE)."
  default     = "callgate"
}

variable "twilio_account_sid" {
  type        = string
  description = "Twilio account SID (not secret; the auth token is, in Secrets Manager)."
}

variable "caller_ids" {
  type        = list(string)
  description = "The account's caller-id numbers in E.164 (CALLER_IDS); the first is the default."
}

variable "google_sheets_id" {
  type        = string
  description = "Spreadsheet of the call log (GOOGLE_SHEETS_ID); null keeps rows in the outbox only."
  default     = null
}

variable "llm_base_url" {
  type        = string
  description = "OpenAI-compatible API root of the voice agent (LLM_BASE_URL); null uses the built-in deterministic agent. Set: the llm-api-key secret must be filled."
  default     = null
}

variable "auth_upstream_providers" {
  type = list(object({
    id        = string
    name      = string
    issuer    = string
    client_id = string
    scopes    = optional(list(string), ["openid", "email"])
  }))
  description = "Upstream OpenID Connect providers people may sign in with besides a password (AUTH_UPSTREAM_PROVIDERS), e.g. Google; empty: passwords only. Non-empty: the auth-upstream-client-secrets secret must be filled with {\"<id>\": \"<client secret>\"}."
  default     = []
}

variable "external_database_url" {
  type        = string
  description = "PostgreSQL URL of an external database (Supabase) instead of RDS."
  default     = null
  sensitive   = true
}

variable "database" {
  type = object({
    instance_class        = string
    allocated_storage_gb  = number
    multi_az              = bool
    backup_retention_days = number
  })
  description = "RDS sizing (ignored with external_database_url)."
  default = {
    instance_class        = "db.t4g.medium"
    allocated_storage_gb  = 50
    multi_az              = false
    backup_retention_days = 7
  }
}

variable "redis" {
  type = object({
    node_type = string
    replicas  = number
  })
  description = "ElastiCache sizing."
  default = {
    node_type = "cache.t4g.small"
    replicas  = 1
  }
}

variable "service_sizes" {
  type = map(object({
    cpu          = number
    memory       = number
    min_capacity = number
    max_capacity = number
  }))
  description = "Task size and autoscaling range by service (gateway, call, user-credit, sheets-sync, poller, auth)."

  validation {
    condition     = length(setsubtract(["gateway", "call", "user-credit", "sheets-sync", "poller", "auth"], keys(var.service_sizes))) == 0
    error_message = "service_sizes needs an entry for gateway, call, user-credit, sheets-sync, poller and auth."
  }
}

variable "recordings_bucket_name" {
  type        = string
  description = "Globally unique name of the call-recordings bucket."
}

variable "recordings_retention_days" {
  type        = number
  description = "Days recordings are kept: the bucket's lifecycle expiry and the call service's retention job (RECORDING_RETENTION_DAYS)."
  default     = 30
}

variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses subscribed to the alarm topic (each confirms by mail)."
  default     = []
}

variable "log_retention_days" {
  type        = number
  description = "CloudWatch Logs retention of the services."
  default     = 30
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the ALB and the database from deletion."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "console_host" {
  type        = string
  description = "Public host name of the web console (CloudFront); the gateway admits it as an Origin and the auth service redirects the console client to https://<console_host>/callback."
}

variable "console_certificate_arn" {
  type        = string
  description = "ACM certificate for console_host, in us-east-1 (CloudFront)."
}

variable "console_bucket_name" {
  type        = string
  description = "Globally unique name of the bucket of the console's static files."
}

variable "transcript_retention_days" {
  type        = number
  description = "Days after a call's end its transcript is kept (TRANSCRIPT_RETENTION_DAYS of the call service's retention job)."
  default     = 90
}
