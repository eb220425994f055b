# The six services. Addresses use Service Connect names (<service>:<port>); secrets come from Secrets
# Manager (the task's `secrets`), never from plain environment. Ports are the services' documented defaults.

locals {
  public_base_url = "https://${var.public_host}"
  # The auth service answers on the same host (the ALB routes its paths): its issuer is the public base URL.
  auth_issuer = local.public_base_url
  image       = { for name, url in module.ecr.repository_urls : name => "${url}:${var.image_tag}" }

  sqs_environment = {
    AWS_REGION            = var.region
    SQS_QUEUE_URL         = module.queue.queue_url
    SQS_DLQ_NAME          = module.queue.dlq_name
    SQS_MAX_RECEIVE_COUNT = "5"
  }

  services = {
    gateway = {
      ops_port          = 9101
      ports             = { http = 8080, grpc = 50050 }
      service_connect   = null
      task_policy_json  = null
      load_balancers    = [{ target_group_arn = module.alb.gateway_target_group_arn, port_name = "http" }]
      requests_per_task = { resource_label = "${module.alb.arn_suffix}/${module.alb.gateway_target_group_arn_suffix}", target = 500 }
      queue_backlog     = null
      environment = merge({
        HTTP_PORT           = "8080"
        GRPC_PORT           = "50050"
        CALL_SERVICE_ADDR   = "call:50051"
        CREDIT_SERVICE_ADDR = "user-credit:50052"
        PUBLIC_BASE_URL     = local.public_base_url
        # Browsers on the gateway's own host and the web console's (CloudFront).
        MCP_ALLOWED_ORIGIN_HOSTS = join(",", distinct([var.public_host, var.console_host]))
        # The callgate authorization server: named in the protected resource metadata, its tokens
        # (aud = PUBLIC_BASE_URL/mcp) verified with its JWKS (AUTH_ISSUER/jwks) and checked over gRPC.
        AUTH_ISSUER       = local.auth_issuer
        AUTH_SERVICE_ADDR = "auth:50055"
        }, var.jwt_jwks_url == null ? {} : {
        # Also an identity provider of your own (optional).
        JWT_JWKS_URL = var.jwt_jwks_url
        JWT_ISSUER   = var.jwt_issuer
        JWT_AUDIENCE = var.jwt_audience
      })
      secrets = {
        REDIS_URL                = module.redis.redis_url_secret_arn
        MCP_REQUEST_STATE_SECRET = aws_secretsmanager_secret.external["mcp-request-state-secret"].arn
        # The auth service's key too: forged personal access tokens are refused without asking it.
        PERSONAL_TOKEN_CHECKSUM_KEYS = aws_secretsmanager_secret.external["personal-token-checksum-keys"].arn
      }
    }
    call = {
      ops_port          = 9102
      ports             = { grpc = 50051, webhooks = 8081 }
      service_connect   = "grpc"
      task_policy_json  = data.aws_iam_policy_document.call_task.json
      load_balancers    = [{ target_group_arn = module.alb.call_webhooks_target_group_arn, port_name = "webhooks" }]
      requests_per_task = null
      queue_backlog     = null
      environment = merge(local.sqs_environment, {
        GRPC_PORT           = "50051"
        WEBHOOK_PORT        = "8081"
        PUBLIC_BASE_URL     = local.public_base_url
        CREDIT_SERVICE_ADDR = "user-credit:50052"
        SHEETS_SERVICE_ADDR = "sheets-sync:50053"
        TWILIO_ACCOUNT_SID  = var.twilio_account_sid
        CALLER_IDS          = join(",", var.caller_ids)
        # Recordings: the bucket, its key, and the same retention as the bucket's lifecycle expiry.
        RECORDINGS_BUCKET         = module.recordings.bucket_name
        RECORDINGS_KMS_KEY_ID     = module.recordings.kms_key_arn
        RECORDING_RETENTION_DAYS  = tostring(var.recordings_retention_days)
        TRANSCRIPT_RETENTION_DAYS = tostring(var.transcript_retention_days)
        # Outbound webhooks: their own queue and DLQ (services/call/src/outbound-webhooks).
        WEBHOOK_QUEUE_URL         = module.webhook_queue.queue_url
        WEBHOOK_DLQ_NAME          = module.webhook_queue.dlq_name
        WEBHOOK_MAX_RECEIVE_COUNT = tostring(module.webhook_queue.max_receive_count)
      }, var.llm_base_url == null ? {} : { LLM_BASE_URL = var.llm_base_url })
      secrets = merge({
        DATABASE_URL      = module.database.database_url_secret_arn
        TWILIO_AUTH_TOKEN = aws_secretsmanager_secret.external["twilio-auth-token"].arn
      }, var.llm_base_url == null ? {} : { LLM_API_KEY = aws_secretsmanager_secret.external["llm-api-key"].arn })
    }
    user-credit = {
      ops_port          = 9103
      ports             = { grpc = 50052 }
      service_connect   = "grpc"
      task_policy_json  = null
      load_balancers    = []
      requests_per_task = null
      queue_backlog     = null
      environment = {
        GRPC_PORT  = "50052"
        CALLER_IDS = join(",", var.caller_ids)
      }
      secrets = {
        DATABASE_URL = module.database.database_url_secret_arn
      }
    }
    sheets-sync = {
      ops_port          = 9104
      ports             = { grpc = 50053 }
      service_connect   = "grpc"
      task_policy_json  = null
      load_balancers    = []
      requests_per_task = null
      queue_backlog     = null
      environment       = merge({ GRPC_PORT = "50053" }, var.google_sheets_id == null ? {} : { GOOGLE_SHEETS_ID = var.google_sheets_id })
      secrets = {
        DATABASE_URL                = module.database.database_url_secret_arn
        REDIS_URL                   = module.redis.redis_url_secret_arn
        GOOGLE_SERVICE_ACCOUNT_JSON = aws_secretsmanager_secret.external["google-service-account-json"].arn
      }
    }
    poller = {
      ops_port          = 9105
      ports             = { grpc = 50054 }
      service_connect   = null
      task_policy_json  = data.aws_iam_policy_document.poller_task.json
      load_balancers    = []
      requests_per_task = null
      queue_backlog     = { queue_name = module.queue.queue_name, target = 50 }
      environment = merge(local.sqs_environment, {
        GRPC_PORT         = "50054"
        CALL_SERVICE_ADDR = "call:50051"
      })
      secrets = {
        DATABASE_URL = module.database.database_url_secret_arn
      }
    }
    auth = {
      ops_port          = 9106
      ports             = { http = 8082, grpc = 50055 }
      service_connect   = "grpc"
      task_policy_json  = data.aws_iam_policy_document.auth_task.json
      load_balancers    = [{ target_group_arn = module.alb.auth_target_group_arn, port_name = "http" }]
      requests_per_task = null
      queue_backlog     = null
      # Never AUTH_LOCAL_MODE or AUTH_SEED_ACCOUNT here: keys come from Secrets Manager, accounts from sign-up.
      environment = {
        HTTP_PORT         = "8082"
        GRPC_PORT         = "50055"
        AUTH_ISSUER       = local.auth_issuer
        AUTH_RESOURCE_URL = "${local.public_base_url}/mcp"
        # The web console, the pre-registered public client (modules/console).
        AUTH_CONSOLE_CLIENT_ID     = local.console_config.clientId
        AUTH_CONSOLE_REDIRECT_URIS = local.console_redirect_uri
        # Behind the ALB: the client address (per-address sign-in limits) is the X-Forwarded-For the ALB sets.
        AUTH_TRUST_PROXY = "true"
        MAIL_FROM        = "${var.mail_from_name} <no-reply@${var.mail_domain}>"
        AWS_REGION       = var.region
        # "Continue with Google" and the like (empty: passwords only; an empty variable is unset); each
        # provider's redirect URI is <AUTH_ISSUER>/interaction/callback/<id>.
        AUTH_UPSTREAM_PROVIDERS = length(var.auth_upstream_providers) == 0 ? "" : jsonencode(var.auth_upstream_providers)
      }
      secrets = merge({
        DATABASE_URL                 = module.database.database_url_secret_arn
        AUTH_SIGNING_KEYS            = aws_secretsmanager_secret.external["auth-signing-keys"].arn
        AUTH_COOKIE_SECRETS          = aws_secretsmanager_secret.external["auth-cookie-secrets"].arn
        PERSONAL_TOKEN_CHECKSUM_KEYS = aws_secretsmanager_secret.external["personal-token-checksum-keys"].arn
        }, length(var.auth_upstream_providers) == 0 ? {} : {
        AUTH_UPSTREAM_CLIENT_SECRETS = aws_secretsmanager_secret.external["auth-upstream-client-secrets"].arn
      })
    }
  }

  database_clients = ["call", "user-credit", "sheets-sync", "poller", "auth"]
  redis_clients    = ["gateway", "sheets-sync"]

  # Who may open a connection to whom: gRPC between services, and the ALB to the gateway and the call
  # service's webhook port and the auth service's HTTP port (plus their ops ports, where the ALB health
  # checks of those target groups go).
  grpc_paths = {
    "gateway-to-call"        = { from = "gateway", to = "call", port = 50051 }
    "gateway-to-user-credit" = { from = "gateway", to = "user-credit", port = 50052 }
    "call-to-user-credit"    = { from = "call", to = "user-credit", port = 50052 }
    "call-to-sheets-sync"    = { from = "call", to = "sheets-sync", port = 50053 }
    "poller-to-call"         = { from = "poller", to = "call", port = 50051 }
    "gateway-to-auth"        = { from = "gateway", to = "auth", port = 50055 }
  }
  alb_paths = {
    "alb-to-gateway"       = { to = "gateway", port = 8080 }
    "alb-to-call-webhooks" = { to = "call", port = 8081 }
    "alb-to-call-health"   = { to = "call", port = 9102 }
    "alb-to-auth"          = { to = "auth", port = 8082 }
    "alb-to-auth-health"   = { to = "auth", port = 9106 }
  }
}

module "service" {
  source   = "../ecs-service"
  for_each = local.services

  name                          = each.key
  prefix                        = local.name
  region                        = var.region
  cluster_arn                   = aws_ecs_cluster.this.arn
  cluster_name                  = aws_ecs_cluster.this.name
  vpc_id                        = module.network.vpc_id
  subnet_ids                    = module.network.private_subnet_ids
  image                         = local.image[each.key]
  ecr_repository_arn            = module.ecr.repository_arns[each.key]
  cpu                           = var.service_sizes[each.key].cpu
  memory                        = var.service_sizes[each.key].memory
  desired_count                 = var.service_sizes[each.key].min_capacity
  min_capacity                  = var.service_sizes[each.key].min_capacity
  max_capacity                  = var.service_sizes[each.key].max_capacity
  ops_port                      = each.value.ops_port
  ports                         = each.value.ports
  service_connect_port_name     = each.value.service_connect
  service_connect_namespace_arn = aws_service_discovery_http_namespace.this.arn
  environment                   = merge({ LOG_LEVEL = "info" }, each.value.environment)
  secrets                       = each.value.secrets
  task_policy_json              = each.value.task_policy_json
  load_balancers                = each.value.load_balancers
  requests_per_target           = each.value.requests_per_task
  queue_backlog_per_task        = each.value.queue_backlog
  log_retention_days            = var.log_retention_days
  alarm_topic_arn               = aws_sns_topic.alarms.arn
  tags                          = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "grpc" {
  for_each                     = local.grpc_paths
  security_group_id            = module.service[each.value.to].security_group_id
  referenced_security_group_id = module.service[each.value.from].security_group_id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = "gRPC from ${each.value.from}"
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  for_each                     = local.alb_paths
  security_group_id            = module.service[each.value.to].security_group_id
  referenced_security_group_id = module.alb.security_group_id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = "From the ALB (${each.key})"
}
