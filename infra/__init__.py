"""The Pulumi program that provisions GCP for Vertex AI tuning (components and automation)."""
