"""Shops service: companies, shops, accounts and credentials, permission flags, IP allowlists, shop QR codes."""
