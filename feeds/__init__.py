"""Feed adapters: turn a source of quotes into normalised ticks for the service."""
