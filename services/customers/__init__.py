"""Customers service: customers, registration-form settings, remark settings, attribute groups, support history, public member registration."""
