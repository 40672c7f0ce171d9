"""Open311 GeoReport v2 at /open311/v2, so tools that already speak Open311 work unchanged:
services are the topics (services.py), service requests are tickets (create.py, read.py),
`jurisdiction_id` is a community's name, and the key comes as the `api_key` parameter
(door.py: the key check, the audit and GeoReport's error shape). JSON only.

Not in /api/v1's OpenAPI document: GeoReport v2 is its own published contract (its paths
end in a format, its bodies are forms, its errors are arrays, not problems).
"""

from __future__ import annotations

from . import create, read, services
from .door import bp

del create, read, services  # their routes are on `bp`

__all__ = ["bp"]
