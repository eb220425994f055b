# Production: a NAT gateway and a database standby per AZ, three AZs, Redis with a replica, two tasks of
# every service at least, deletion protection on the ALB and the database.

provider "aws" {
  region = var.region

  default_tags {
    tags = { Environment = "production" }
  }
}

# CloudFront's WAF ACL, certificate and metrics live in us-east-1 (the console, modules/console).
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = { Environment = "production" }
  }
}

module "callgate" {
  source = "../../modules/stack"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  environment             = "production"
  region                  = var.region
  image_tag               = var.image_tag
  public_host             = var.public_host
  certificate_arn         = var.certificate_arn
  jwt_jwks_url            = var.jwt_jwks_url
  jwt_issuer              = var.jwt_issuer
  mail_domain             = var.mail_domain
  twilio_account_sid      = var.twilio_account_sid
  caller_ids              = var.caller_ids
  google_sheets_id        = var.google_sheets_id
  llm_base_url            = var.llm_base_url
  auth_upstream_providers = var.auth_upstream_providers
  external_database_url   = var.external_database_url
  recordings_bucket_name  = var.recordings_bucket_name
  console_host            = var.console_host
  console_certificate_arn = var.console_certificate_arn
  console_bucket_name     = var.console_bucket_name
  alarm_emails            = var.alarm_emails
  az_count                = 3
  single_nat_gateway      = false
  deletion_protection     = true
  log_retention_days      = 90

  database = {
    instance_class        = "db.m7g.large"
    allocated_storage_gb  = 100
    multi_az              = true
    backup_retention_days = 14
  }

  redis = {
    node_type = "cache.m7g.large"
    replicas  = 1
  }

  service_sizes = {
    gateway     = { cpu = 512, memory = 1024, min_capacity = 3, max_capacity = 12 }
    call        = { cpu = 512, memory = 1024, min_capacity = 2, max_capacity = 8 }
    user-credit = { cpu = 256, memory = 512, min_capacity = 2, max_capacity = 6 }
    sheets-sync = { cpu = 256, memory = 512, min_capacity = 2, max_capacity = 4 }
    poller      = { cpu = 256, memory = 512, min_capacity = 2, max_capacity = 10 }
    auth        = { cpu = 512, memory = 1024, min_capacity = 2, max_capacity = 6 }
  }
}
