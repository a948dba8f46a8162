"""The municipality's rules: load, validate, lock the law's fixed parts, stamp provenance."""
