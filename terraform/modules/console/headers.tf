# Response headers: the console's pages and files get the same policy `npm start` sends
# (scripts/console-host/security-headers.ts; test/deploy/terraform.test.ts compares the two) plus HSTS,
# which only https can carry. Call recordings play from the recordings bucket's pre-signed URLs (media-src). The API paths keep the headers their services set (the auth pages have a
# CSP of their own); CloudFront adds HSTS and nosniff where they are missing.

locals {
  api_origin = "https://${var.api_host}"
  console_csp = join("; ", [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self' ${local.api_origin}",
    "media-src 'self' ${var.recordings_origin}",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action ${local.api_origin} 'self'",
  ])
}

resource "aws_cloudfront_response_headers_policy" "console" {
  name    = "${var.name}-console"
  comment = "callgate console: CSP, HSTS, no framing, nosniff, no referrer"

  security_headers_config {
    content_security_policy {
      content_security_policy = local.console_csp
      override                = true
    }

    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    content_type_options {
      override = true
    }

    # The OAuth callback URL carries the authorization code: it never leaves in a Referer.
    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }
  }

  custom_headers_config {
    items {
      header   = "Cross-Origin-Opener-Policy"
      value    = "same-origin"
      override = true
    }
  }
}

resource "aws_cloudfront_response_headers_policy" "api" {
  name    = "${var.name}-console-api"
  comment = "callgate API paths through the console host: HSTS and nosniff, the services' own headers kept"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = false
    }

    content_type_options {
      override = false
    }
  }
}
