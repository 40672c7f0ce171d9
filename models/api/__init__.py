"""The open API's domain (bot/api is its HTTP edge): keys and their audit, webhook
subscriptions and the events they are sent, and work orders from city platforms (12345, grid
platforms) taken in through the one intake."""
