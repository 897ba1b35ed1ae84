terraform {
  required_version = ">= 1.6"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.10"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Keep state in a versioned bucket (created once by hand, see docs/deploy.md).
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}
