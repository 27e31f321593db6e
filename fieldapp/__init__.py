"""fieldapp: free health-exam days for Vietnamese ward health stations."""

from .app import create_app

__all__ = ["create_app"]
