variable "name" {
  type        = string
  description = "Prefix of every resource name."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the database."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the DB subnet group."
}

variable "client_security_group_ids" {
  type        = map(string)
  description = "Security groups of the services that own a schema (call, user-credit, sheets-sync, poller), by service."
}

variable "external_database_url" {
  type        = string
  description = "PostgreSQL URL of an external database (e.g. Supabase). Set: no RDS instance is created."
  default     = null
  sensitive   = true
}

variable "instance_class" {
  type        = string
  description = "RDS instance class."
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  type        = number
  description = "Initial storage; grows automatically up to 4x."
  default     = 50
}

variable "multi_az" {
  type        = bool
  description = "Standby in a second AZ (production)."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance (production)."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups (point-in-time restore window)."
  default     = 7
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
