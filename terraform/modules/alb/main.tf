# The only public entry: an internet-facing ALB with HTTPS (HTTP redirects), WAF in front. It forwards
# /mcp and the protected resource metadata to the gateway, /twilio/* (status callbacks, ConversationRelay
# WebSocket) to the call service's webhook port (Twilio must reach it, and it checks Twilio's signature
# itself), and the authorization server's paths (local.auth_paths) to the auth service.

locals {
  # Everything the auth service (oidc-provider and its account pages) answers in public: RFC 8414 / OIDC
  # discovery, the OAuth endpoints (authorization, token and revocation, registration, JWKS, request
  # objects), sign-in and consent, and the account pages. The gateway's own metadata,
  # /.well-known/oauth-protected-resource/mcp, stays with the gateway (the default action).
  auth_paths = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/auth",
    "/auth/*",
    "/token",
    "/token/*",
    "/reg",
    "/reg/*",
    "/jwks",
    "/request",
    "/interaction/*", # sign-in, consent, and the upstream providers' callback /interaction/callback/<id>
    "/signup",
    "/verify-email",
    "/reset-password",
    "/sign-out-everywhere",
    "/personal-tokens",
    "/delete-account",
  ]
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Public ALB: HTTPS and HTTP (redirect) from anywhere, traffic only into the VPC"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS from the internet"
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  security_group_id = aws_security_group.alb.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  description       = "HTTP from the internet (redirected to HTTPS)"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_vpc" {
  security_group_id = aws_security_group.alb.id
  cidr_ipv4         = var.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = 0
  to_port           = 65535
  description       = "To the targets in the VPC"
}

resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  idle_timeout               = var.idle_timeout_seconds
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  tags                       = var.tags
}

resource "aws_lb_target_group" "gateway" {
  name                 = "${var.name}-gateway"
  port                 = 8080
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 60
  tags                 = var.tags

  health_check {
    path                = "/healthz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  stickiness {
    type            = "lb_cookie"
    enabled         = true
    cookie_duration = var.stickiness_seconds
  }
}

resource "aws_lb_target_group" "call_webhooks" {
  name                 = "${var.name}-call-webhooks"
  port                 = 8081
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  tags                 = var.tags

  # The webhook port serves only Twilio's routes; health is on the service's ops port.
  health_check {
    path                = "/healthz"
    port                = "9102"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_target_group" "auth" {
  name                 = "${var.name}-auth"
  port                 = 8082
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  tags                 = var.tags

  # /readyz of the ops port: a task whose database is unreachable gets no sign-ins. (The HTTP port serves
  # only the OAuth and account routes.)
  health_check {
    path                = "/readyz"
    port                = "9106"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.gateway.arn
  }
}

resource "aws_lb_listener_rule" "twilio" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10
  tags         = var.tags

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.call_webhooks.arn
  }

  condition {
    path_pattern {
      values = ["/twilio/*"]
    }
  }
}

# A rule's conditions take at most 5 path patterns: one rule per 5 paths, priorities 20, 21, …
resource "aws_lb_listener_rule" "auth" {
  count        = length(chunklist(local.auth_paths, 5))
  listener_arn = aws_lb_listener.https.arn
  priority     = 20 + count.index
  tags         = var.tags

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.auth.arn
  }

  condition {
    path_pattern {
      values = chunklist(local.auth_paths, 5)[count.index]
    }
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"
  tags              = var.tags

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}
