variable "name" {
  type        = string
  description = "Prefix of every resource name."
}

variable "console_host" {
  type        = string
  description = "Public host name of the web console (the distribution's alias); its ACM certificate is console_certificate_arn."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for console_host, in us-east-1 (CloudFront takes certificates only from there)."

  validation {
    condition     = can(regex("^arn:aws:acm:us-east-1:", var.certificate_arn))
    error_message = "CloudFront needs an ACM certificate in us-east-1."
  }
}

variable "api_host" {
  type        = string
  description = "Host name of the ALB (the stack's public_host): the origin of /mcp, the well-known metadata and the authorization server's paths. Its certificate covers it, so CloudFront reaches it over verified HTTPS."
}

variable "recordings_origin" {
  type        = string
  description = "Origin of the recordings bucket's pre-signed URLs (https://<bucket>.s3.<region>.amazonaws.com): the console plays call recordings from there (CSP media-src)."

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+\\.amazonaws\\.com$", var.recordings_origin))
    error_message = "recordings_origin is an https origin under amazonaws.com, without a path."
  }
}

variable "bucket_name" {
  type        = string
  description = "Globally unique name of the bucket of the console's static files."
}

variable "price_class" {
  type        = string
  description = "CloudFront price class (edge locations used)."
  default     = "PriceClass_100"
}

variable "waf_rate_limit_per_5_minutes" {
  type        = number
  description = "Requests per client IP per 5 minutes through the console's distribution before WAF blocks it."
  default     = 3000
}

variable "server_error_rate_alarm" {
  type        = number
  description = "Percentage of viewer requests answered 5xx by the distribution that raises the alarm."
  default     = 2
}

variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses subscribed to the us-east-1 alarm topic of the distribution (each confirms by mail)."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
