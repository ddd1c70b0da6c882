"""The pure market-data core: synchronous, imports only the standard library, numpy and orjson."""
