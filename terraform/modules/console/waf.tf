# WAF at the edge: the same rules as the ALB's (modules/waf), scope CLOUDFRONT, so created in us-east-1.
# It sees the viewer's own address, which the ALB's ACL, behind CloudFront, cannot.

module "waf" {
  source                   = "../waf"
  name                     = "${var.name}-console"
  description              = "callgate console distribution"
  scope                    = "CLOUDFRONT"
  rate_limit_per_5_minutes = var.waf_rate_limit_per_5_minutes
  tags                     = var.tags

  providers = {
    aws = aws.us_east_1
  }
}
