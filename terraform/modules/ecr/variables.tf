variable "name" {
  type        = string
  description = "Repository name prefix, e.g. callgate (repositories are <name>/<service>)."
}

variable "services" {
  type        = set(string)
  description = "One repository per service."
}

variable "keep_images" {
  type        = number
  description = "Tagged images kept per repository; older ones expire (rollbacks reach this far back)."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
