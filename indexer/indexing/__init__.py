"""The indexing run in stages: plan what to do, read and analyse the photos, store the results."""
