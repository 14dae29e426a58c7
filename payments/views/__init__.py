"""The app's pages and JSON endpoints, one module per concern (the webhook lives apart)."""
