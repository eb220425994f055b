# PostgreSQL: an RDS instance, or an external URL (Supabase) when external_database_url is set. Either way
# the services get DATABASE_URL from one Secrets Manager secret, never from plain task environment.
# The generated password lives in the Terraform state: keep the state in the encrypted S3 backend.

locals {
  create = var.external_database_url == null
}

resource "aws_db_subnet_group" "this" {
  count      = local.create ? 1 : 0
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "db" {
  count       = local.create ? 1 : 0
  name        = "${var.name}-db"
  description = "PostgreSQL: reachable only from the services that own a schema"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "db_from_service" {
  for_each                     = local.create ? var.client_security_group_ids : {}
  security_group_id            = aws_security_group.db[0].id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  description                  = "PostgreSQL from ${each.key}"
}

resource "random_password" "master" {
  count   = local.create ? 1 : 0
  length  = 40
  special = false
}

resource "aws_db_parameter_group" "this" {
  count  = local.create ? 1 : 0
  name   = var.name
  family = "postgres17"
  tags   = var.tags

  # TLS only; the services connect with sslmode in DATABASE_URL.
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}

resource "aws_db_instance" "this" {
  count                        = local.create ? 1 : 0
  identifier                   = var.name
  engine                       = "postgres"
  engine_version               = "17"
  instance_class               = var.instance_class
  allocated_storage            = var.allocated_storage_gb
  max_allocated_storage        = var.allocated_storage_gb * 4
  storage_type                 = "gp3"
  storage_encrypted            = true
  db_name                      = "callgate"
  username                     = "callgate"
  password                     = random_password.master[0].result
  db_subnet_group_name         = aws_db_subnet_group.this[0].name
  parameter_group_name         = aws_db_parameter_group.this[0].name
  vpc_security_group_ids       = [aws_security_group.db[0].id]
  publicly_accessible          = false
  multi_az                     = var.multi_az
  backup_retention_period      = var.backup_retention_days
  deletion_protection          = var.deletion_protection
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${var.name}-final"
  copy_tags_to_snapshot        = true
  auto_minor_version_upgrade   = true
  performance_insights_enabled = true
  tags                         = var.tags
}

resource "aws_secretsmanager_secret" "database_url" {
  name                    = "${var.name}/database-url"
  description             = "DATABASE_URL of the callgate services"
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id = aws_secretsmanager_secret.database_url.id
  # sslmode=no-verify: encrypted, but the RDS CA is not in Node's trust store; see README "Deploy to AWS".
  secret_string = local.create ? "postgres://callgate:${random_password.master[0].result}@${aws_db_instance.this[0].address}:5432/callgate?sslmode=no-verify" : var.external_database_url
}
