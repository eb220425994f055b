variable "region" {
  type        = string
  description = "AWS region of the environment."
  default     = "us-east-1"
}

variable "image_tag" {
  type        = string
  description = "Image tag (git SHA) to deploy; CI passes -var image_tag=<sha>."
}

variable "public_host" {
  type        = string
  description = "Public host name of the gateway."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for public_host."
}

variable "jwt_jwks_url" {
  type        = string
  description = "JWKS URL of an identity provider of your own, besides the auth service; null: none."
  default     = null
}

variable "jwt_issuer" {
  type        = string
  description = "Required iss of that identity provider's tokens."
  default     = null
}

variable "mail_domain" {
  type        = string
  description = "Domain account mail is sent from through SES (no-reply@<mail_domain>)."
}

variable "twilio_account_sid" {
  type        = string
  description = "Twilio account SID."
}

variable "caller_ids" {
  type        = list(string)
  description = "Caller-id numbers (E.164) of the Twilio account."
}

variable "google_sheets_id" {
  type        = string
  description = "Spreadsheet of the call log; null keeps rows in the outbox."
  default     = null
}

variable "llm_base_url" {
  type        = string
  description = "OpenAI-compatible API root of the voice agent; null: the built-in agent."
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
  description = "Upstream OpenID Connect providers to sign in with (e.g. Google); empty: passwords only. Fill the auth-upstream-client-secrets secret when set."
  default     = []
}

variable "external_database_url" {
  type        = string
  description = "External PostgreSQL URL (Supabase) instead of RDS; pass through TF_VAR_external_database_url."
  default     = null
  sensitive   = true
}

variable "recordings_bucket_name" {
  type        = string
  description = "Globally unique name of the recordings bucket."
}

variable "alarm_emails" {
  type        = list(string)
  description = "Addresses that receive alarms."
  default     = []
}

variable "console_host" {
  type        = string
  description = "Public host name of the web console (CloudFront)."
}

variable "console_certificate_arn" {
  type        = string
  description = "ACM certificate for console_host, in us-east-1."
}

variable "console_bucket_name" {
  type        = string
  description = "Globally unique name of the console's bucket."
}
