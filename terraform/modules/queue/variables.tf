variable "name" {
  type        = string
  description = "Queue name (the DLQ is <name>-dlq)."
}

variable "max_receive_count" {
  type        = number
  description = "Receives before SQS moves a message to the dead-letter queue (the services' SQS_MAX_RECEIVE_COUNT)."
  default     = 5
}

variable "visibility_timeout_seconds" {
  type        = number
  description = "Default visibility timeout; the poller sets its own (POLL_VISIBILITY_TIMEOUT_SECONDS) per receive."
  default     = 60
}

variable "max_age_alarm_seconds" {
  type        = number
  description = "Alarm when the oldest message has waited this long (pollers are behind or down)."
  default     = 600
}

variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic the alarms notify."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "purpose" {
  type        = string
  description = "What the messages are, for the alarms' descriptions (e.g. \"Status polls\")."
  default     = "Status polls"
}

variable "dlq_hint" {
  type        = string
  description = "What the on-call does when the DLQ alarm fires (its description)."
  default     = "npm run dlq -- peek, fix, redrive."
}
