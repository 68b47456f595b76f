"""Running several gateway replicas: a local load balancer and the replicas-up launcher."""
