terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
      # The console's CloudFront WAF ACL and edge alarm (modules/console).
      configuration_aliases = [aws.us_east_1]
    }
  }
}
