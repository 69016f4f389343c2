"""Mail-history service: mails, deliveries, opens, clicks, QR reads, bounces, address-error state."""
