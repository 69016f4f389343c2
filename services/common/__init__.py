"""Infrastructure shared by every service: configuration, database, outbox, event and error contracts.

No business rule lives here; each rule belongs to the one service that owns its data.
"""
