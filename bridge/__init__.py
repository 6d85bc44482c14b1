"""The child-record bridge: config, canonical model, store, sync, mapping, linking, referrals."""

__version__ = "0.1.0"
