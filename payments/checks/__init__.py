"""System checks: every missing or contradictory setting surfaces in ``manage.py check``."""
