terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
      # CloudFront's WAF ACL and metrics live in us-east-1 whatever the stack's region.
      configuration_aliases = [aws.us_east_1]
    }
  }
}
