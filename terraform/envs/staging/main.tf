# Staging: the production shape at the smallest size. One NAT gateway, single-AZ database, one Redis
# node, one task per service (except the gateway), no deletion protection so it can be rebuilt.

provider "aws" {
  region = var.region

  default_tags {
    tags = { Environment = "staging" }
  }
}

# CloudFront's WAF ACL, certificate and metrics live in us-east-1 (the console, modules/console).
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = { Environment = "staging" }
  }
}

module "callgate" {
  source = "../../modules/stack"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  environment             = "staging"
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
  single_nat_gateway      = true
  deletion_protection     = false
  log_retention_days      = 14

  database = {
    instance_class        = "db.t4g.medium"
    allocated_storage_gb  = 20
    multi_az              = false
    backup_retention_days = 3
  }

  redis = {
    node_type = "cache.t4g.micro"
    replicas  = 0
  }

  service_sizes = {
    gateway     = { cpu = 256, memory = 512, min_capacity = 2, max_capacity = 4 }
    call        = { cpu = 256, memory = 512, min_capacity = 1, max_capacity = 2 }
    user-credit = { cpu = 256, memory = 512, min_capacity = 1, max_capacity = 2 }
    sheets-sync = { cpu = 256, memory = 512, min_capacity = 1, max_capacity = 2 }
    poller      = { cpu = 256, memory = 512, min_capacity = 1, max_capacity = 3 }
    auth        = { cpu = 256, memory = 512, min_capacity = 1, max_capacity = 2 }
  }
}
