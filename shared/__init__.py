"""Platform code shared by every use case: HTTP helpers, auth, settings, model providers,
the ChatKit server base and the stores."""
