"""The app's views, one module per concern; the webhook lives with its own engineer's code."""
