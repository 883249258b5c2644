"""Deployment helpers: serve the deployments declared in prefect.yaml."""
