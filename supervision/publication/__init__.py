"""What the public sees: the plate page's content and its version, search, the published yearly
summary tables and the open-data feed. Read-only services; the interfaces render them."""
