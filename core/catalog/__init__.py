"""The catalog: which stores exist, which complete backup sets they have, what jobs ran."""

from .catalog import Catalog, now_text
from .records import CatalogError, JobRecord, SetRecord, Store, check_store_name
from .schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Catalog", "CatalogError", "JobRecord", "SetRecord", "Store", "check_store_name",
           "now_text"]
