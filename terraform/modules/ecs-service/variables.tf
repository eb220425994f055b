variable "name" {
  type        = string
  description = "Service name (gateway, call, user-credit, sheets-sync, poller): container, log stream and discovery name."
}

variable "prefix" {
  type        = string
  description = "Prefix of AWS resource names, e.g. callgate-staging."
}

variable "region" {
  type        = string
  description = "AWS region (log configuration)."
}

variable "cluster_arn" {
  type        = string
  description = "ECS cluster the service runs in."
}

variable "cluster_name" {
  type        = string
  description = "ECS cluster name (autoscaling resource id, Container Insights dimensions)."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the tasks."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets of the tasks (no public IP)."
}

variable "image" {
  type        = string
  description = "Container image, <repository url>:<tag> (tags are git SHAs)."
}

variable "ecr_repository_arn" {
  type        = string
  description = "The repository of the image: the execution role may pull from it and no other."
}

variable "cpu" {
  type        = number
  description = "Task CPU units (256 = 0.25 vCPU)."
  default     = 256
}

variable "memory" {
  type        = number
  description = "Task memory in MiB."
  default     = 512
}

variable "desired_count" {
  type        = number
  description = "Tasks at creation; autoscaling moves it between min_capacity and max_capacity afterwards."
  default     = 2
}

variable "min_capacity" {
  type        = number
  description = "Fewest tasks (also the running-tasks alarm threshold)."
  default     = 2
}

variable "max_capacity" {
  type        = number
  description = "Most tasks autoscaling may run."
  default     = 6
}

variable "ops_port" {
  type        = number
  description = "METRICS_PORT: /metrics, /healthz, /readyz."
}

variable "ports" {
  type        = map(number)
  description = "Named container ports besides the ops port, e.g. { grpc = 50051, webhooks = 8081 }."
  default     = {}
}

variable "service_connect_port_name" {
  type        = string
  description = "Name in ports that other services call through Service Connect (DNS <name>:<port>); null for a client only."
  default     = null
}

variable "service_connect_namespace_arn" {
  type        = string
  description = "Cloud Map namespace of Service Connect."
}

variable "environment" {
  type        = map(string)
  description = "Plain environment variables (never secrets)."
  default     = {}
}

variable "secrets" {
  type        = map(string)
  description = "Environment variables read from Secrets Manager or SSM at start: variable name => secret ARN."
  default     = {}
}

variable "task_policy_json" {
  type        = string
  description = "IAM policy of what the service's code may do in AWS (null: nothing)."
  default     = null
}

variable "load_balancers" {
  type = list(object({
    target_group_arn = string
    port_name        = string
  }))
  description = "ALB target groups the tasks register in, by container port name."
  default     = []
}

variable "cpu_target_percent" {
  type        = number
  description = "Target tracking on average CPU."
  default     = 60
}

variable "requests_per_target" {
  type = object({
    resource_label = string
    target         = number
  })
  description = "Target tracking on ALB requests per task (gateway); null for none."
  default     = null
}

variable "queue_backlog_per_task" {
  type = object({
    queue_name = string
    target     = number
  })
  description = "Target tracking on visible SQS messages per running task (poller); null for none."
  default     = null
}

variable "log_retention_days" {
  type        = number
  description = "CloudWatch Logs retention."
  default     = 30
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

variable "tracing" {
  type        = bool
  description = "Run an ADOT collector beside the service and send its traces to AWS X-Ray."
  default     = true
}

variable "adot_image" {
  type        = string
  description = "Image of the AWS Distro for OpenTelemetry collector."
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}
