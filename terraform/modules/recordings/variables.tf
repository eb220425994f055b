variable "bucket_name" {
  type        = string
  description = "Globally unique name of the call-recordings bucket."
}

variable "retention_days" {
  type        = number
  description = "Recordings are deleted this many days after upload (privacy: keep no longer than needed); the call service's RECORDING_RETENTION_DAYS is set to the same."
  default     = 30
}

variable "infrequent_access_after_days" {
  type        = number
  description = "Days after which recordings move to STANDARD_IA (cheaper, rarely listened to)."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
