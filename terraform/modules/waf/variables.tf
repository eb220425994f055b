variable "name" {
  type        = string
  description = "Name of the web ACL and prefix of its metric names."
}

variable "description" {
  type        = string
  description = "What the ACL protects."
}

variable "scope" {
  type        = string
  description = "REGIONAL (an ALB) or CLOUDFRONT (a distribution; the provider must be in us-east-1)."

  validation {
    condition     = contains(["REGIONAL", "CLOUDFRONT"], var.scope)
    error_message = "scope must be REGIONAL or CLOUDFRONT."
  }
}

variable "rate_limit_per_5_minutes" {
  type        = number
  description = "Requests per client IP per 5 minutes before WAF blocks it (coarse flood protection; per-user limits are the gateway's)."
  default     = 3000
}

variable "sign_in_limit_per_5_minutes" {
  type        = number
  description = "Requests per client IP per 5 minutes to the sign-in, sign-up and password-reset pages before WAF blocks it (against password guessing from one address; the auth service also limits per address and per account)."
  default     = 300
}

variable "sign_in_path_prefixes" {
  type        = list(string)
  description = "Path prefixes of the pages where passwords are tried (the auth service's interaction, sign-up and reset pages, and the account pages that ask for the password: personal tokens, sign-out everywhere, account deletion)."
  default     = ["/interaction/", "/signup", "/reset-password", "/personal-tokens", "/sign-out-everywhere", "/delete-account"]
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
