# The web console: its build in a private bucket behind CloudFront on console_host, WAF at the edge, the
# API paths routed to the ALB (modules/console). It signs in at the auth service as the pre-registered
# public client (AUTH_CONSOLE_CLIENT_ID) and calls the gateway at public_host, which admits its Origin.

locals {
  console_url          = "https://${var.console_host}"
  console_redirect_uri = "${local.console_url}/callback"
  # The call service presigns virtual-hosted-style URLs on the bucket's regional endpoint: the console plays
  # recordings from there (CSP media-src).
  recordings_origin = "https://${module.recordings.bucket_name}.s3.${var.region}.amazonaws.com"
  # What the SPA reads at start; the deploy uploads it as /console-config.json (docs: the console contract).
  console_config = {
    mcpUrl          = "${local.public_base_url}/mcp"
    issuer          = local.auth_issuer
    clientId        = "callgate-console"
    sandboxPersonas = null
    mediaOrigins    = [local.recordings_origin]
  }
}

module "console" {
  source            = "../console"
  name              = local.name
  console_host      = var.console_host
  certificate_arn   = var.console_certificate_arn
  api_host          = var.public_host
  recordings_origin = local.recordings_origin
  bucket_name       = var.console_bucket_name
  alarm_emails      = var.alarm_emails
  tags              = local.tags

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }
}
