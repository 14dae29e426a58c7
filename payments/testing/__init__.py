"""Test support that ships with the app, so sites can test their paywalled views offline."""
