"""Purchases service: categories, products, purchases and their lines, history groups, order attributes, media."""
