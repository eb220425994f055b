# The console's CloudFront distribution on console_host: by default the bucket (origin access control,
# cached, SPA routes rewritten to index.html by a viewer-request function); /mcp* and /.well-known/* go to
# the ALB (api_host) over HTTPS with every method, no caching, and every viewer header, cookie and query
# string but Host (so the ALB's certificate for api_host matches). The authorization server's pages are not
# routed here: behind CloudFront the auth service would see an edge server's address, not the person's,
# and its per-address limits (registrations, sign-ups, sign-in guesses) would count a whole edge as one
# client. Its issuer is api_host, so every client (the console too) is sent there anyway.
# No custom error responses: they would apply to every origin and turn the API's 401/403/404 into the page.

locals {
  api_path_patterns = ["/mcp*", "/.well-known/*"]
}

data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_cache_policy" "caching_disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

resource "aws_cloudfront_function" "spa_routes" {
  name    = "${var.name}-console-spa-routes"
  runtime = "cloudfront-js-2.0"
  comment = "callgate console: SPA routes to /index.html"
  publish = true
  code    = file("${path.module}/spa-routes.js")
}

resource "aws_cloudfront_distribution" "console" {
  enabled             = true
  comment             = "callgate console (${var.console_host})"
  aliases             = [var.console_host]
  default_root_object = "index.html"
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  price_class         = var.price_class
  web_acl_id          = module.waf.arn
  tags                = var.tags

  origin {
    origin_id                = "console-bucket"
    domain_name              = aws_s3_bucket.console.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.console.id
  }

  origin {
    origin_id   = "api"
    domain_name = var.api_host

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
      # CloudFront's longest without a quota increase: a quiet SSE stream needs the gateway's keep-alives
      # within it (the ALB's own idle timeout is an hour).
      origin_read_timeout      = 60
      origin_keepalive_timeout = 60
    }
  }

  default_cache_behavior {
    target_origin_id           = "console-bucket"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.console.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.spa_routes.arn
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.api_path_patterns
    content {
      path_pattern     = ordered_cache_behavior.value
      target_origin_id = "api"
      # https-only, not a redirect: a redirected POST would lose its body.
      viewer_protocol_policy     = "https-only"
      allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = false
      cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
      origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.api.id
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }
}
