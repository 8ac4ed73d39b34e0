"""The product's field lists, declared once: services, admin, API and import build on them."""

from __future__ import annotations

# What a product offers and to whom, besides its code, name and category (which identify it).
TERMS_FIELDS = (
    "description",
    "currency",
    "min_term_months",
    "max_term_months",
    "min_amount",
    "max_amount",
    "min_age",
    "max_age",
    "min_annual_income",
    "eligible_segments",
    "min_risk_profile",
    "max_risk_profile",
    "for_individuals",
    "for_businesses",
)
# Everything create_product accepts besides code, name, category and branches.
PRODUCT_FIELDS = (*TERMS_FIELDS, "is_active")
# One slab of a rate table (a new dated row, never an overwrite).
RATE_FIELDS = ("effective_from", "min_amount", "max_amount", "min_term_months", "max_term_months", "rate")
# A fee on a product.
FEE_FIELDS = ("name", "amount", "percentage", "frequency")
