variable "name" {
  type        = string
  description = "Prefix of every resource name."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cache."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the cache subnet group."
}

variable "client_security_group_ids" {
  type        = map(string)
  description = "Security groups of the services that use Redis (gateway, sheets-sync), by service."
}

variable "node_type" {
  type        = string
  description = "ElastiCache node type."
  default     = "cache.t4g.small"
}

variable "replicas" {
  type        = number
  description = "Read replicas (1 or more enables automatic failover)."
  default     = 1
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
