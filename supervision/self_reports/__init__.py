"""Self-reported information (自愿申报): honours, certifications and public-welfare activity an
establishment reports about itself, with evidence and a truthfulness pledge. It becomes positive
credit information only when a supervisor verifies it."""
