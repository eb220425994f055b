terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: bucket, key and region come from backend.hcl (terraform init -backend-config).
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
