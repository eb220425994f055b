# The whole callgate deployment of one environment: network, registry, queue, data stores, the public ALB,
# the ECS cluster with Service Connect, the five services (services.tf), alarms to one SNS topic.

locals {
  name = "callgate-${var.environment}"
  tags = merge(var.tags, { Application = "callgate", Environment = var.environment, ManagedBy = "terraform" })
}

module "network" {
  source             = "../network"
  name               = local.name
  cidr_block         = var.vpc_cidr_block
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
  tags               = local.tags
}

module "ecr" {
  source   = "../ecr"
  name     = local.name
  services = toset(keys(local.services))
  tags     = local.tags
}

module "queue" {
  source          = "../queue"
  name            = "${local.name}-call-status"
  alarm_topic_arn = aws_sns_topic.alarms.arn
  tags            = local.tags
}

module "database" {
  source                    = "../database"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = { for name in local.database_clients : name => module.service[name].security_group_id }
  external_database_url     = var.external_database_url
  instance_class            = var.database.instance_class
  allocated_storage_gb      = var.database.allocated_storage_gb
  multi_az                  = var.database.multi_az
  backup_retention_days     = var.database.backup_retention_days
  deletion_protection       = var.deletion_protection
  tags                      = local.tags
}

module "redis" {
  source                    = "../redis"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = { for name in local.redis_clients : name => module.service[name].security_group_id }
  node_type                 = var.redis.node_type
  replicas                  = var.redis.replicas
  tags                      = local.tags
}

module "alb" {
  source              = "../alb"
  name                = local.name
  vpc_id              = module.network.vpc_id
  vpc_cidr_block      = var.vpc_cidr_block
  public_subnet_ids   = module.network.public_subnet_ids
  certificate_arn     = var.certificate_arn
  alarm_topic_arn     = aws_sns_topic.alarms.arn
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "recordings" {
  source         = "../recordings"
  bucket_name    = var.recordings_bucket_name
  retention_days = var.recordings_retention_days
  tags           = local.tags
}

# Secrets whose values come from outside (Twilio, Google, a random key): Terraform creates the empty secret
# and grants the services that read it; an operator sets the value once (README "Deploy to AWS").
resource "aws_secretsmanager_secret" "external" {
  for_each                = toset(concat(["twilio-auth-token", "google-service-account-json", "mcp-request-state-secret"], var.llm_base_url == null ? [] : ["llm-api-key"]))
  name                    = "${local.name}/${each.key}"
  description             = "callgate ${var.environment}: ${each.key} (value set by an operator)"
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "aws_service_discovery_http_namespace" "this" {
  name        = local.name
  description = "Service Connect namespace of callgate ${var.environment}"
  tags        = local.tags
}

resource "aws_ecs_cluster" "this" {
  name = local.name
  tags = local.tags

  # Container Insights: RunningTaskCount for the task alarms and the poller's backlog-per-task scaling.
  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  service_connect_defaults {
    namespace = aws_service_discovery_http_namespace.this.arn
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}
