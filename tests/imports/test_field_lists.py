"""The import schemas and the export follow the field lists the customer and product apps declare."""

from apps.customers.fields import HINT_FIELDS, PII_FIELDS, PROFILE_FIELDS
from apps.imports.exporting import BASE_COLUMNS, MASKED_COLUMNS, PII_COLUMNS
from apps.imports.schemas import CustomerSchema, ProductSchema
from apps.products.fields import PRODUCT_FIELDS


def _columns(schema: type) -> list[str]:
    return [column.name for column in schema.columns]


def test_the_customer_import_reads_every_profile_field_and_nothing_else_of_the_profile():
    assert _columns(CustomerSchema) == ["external_id", *PROFILE_FIELDS, "branch_code", "manager_username"]


def test_an_export_can_be_loaded_back_column_for_column():
    imported = set(_columns(CustomerSchema))

    assert set(BASE_COLUMNS) | set(PII_COLUMNS) <= imported
    assert set(PII_COLUMNS) == set(PII_FIELDS)
    # Masked hints are never import columns, so a masked export cannot overwrite personal data.
    assert MASKED_COLUMNS == HINT_FIELDS
    assert not imported & set(MASKED_COLUMNS)


def test_the_product_import_reads_every_catalog_field():
    assert _columns(ProductSchema) == [
        "code",
        "name",
        "category",
        *PRODUCT_FIELDS,
        "branches",
        "rate",
        "rate_effective_from",
    ]
