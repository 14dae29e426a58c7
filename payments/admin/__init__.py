"""Admin screens, one module per concern."""
