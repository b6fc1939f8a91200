"""GraphQL adapter: Strawberry types, loaders, per-role schema build, SDL snapshots."""
