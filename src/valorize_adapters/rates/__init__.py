"""Sources of exchange rates (the ``RateSource`` port)."""

from valorize_adapters.rates.ecb import EcbRateFile

__all__ = ["EcbRateFile"]
