"""Writing the demo data through the real services, one domain a module."""
