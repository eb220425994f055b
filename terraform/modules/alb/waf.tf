# WAF on the ALB: the shared rules of modules/waf, REGIONAL.

module "waf" {
  source                      = "../waf"
  name                        = var.name
  description                 = "callgate public ALB"
  scope                       = "REGIONAL"
  rate_limit_per_5_minutes    = var.waf_rate_limit_per_5_minutes
  sign_in_limit_per_5_minutes = var.waf_sign_in_limit_per_5_minutes
  tags                        = var.tags
}

# The ACL was defined here before modules/waf: the same ACL, not a new one.
moved {
  from = aws_wafv2_web_acl.this
  to   = module.waf.aws_wafv2_web_acl.this
}

resource "aws_wafv2_web_acl_association" "alb" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = module.waf.arn
}
