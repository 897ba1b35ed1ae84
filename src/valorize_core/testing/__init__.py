"""Test helpers for users of the library: Hypothesis strategies for the domain types.

Install with the ``testing`` extra (``pip install 'valorize[testing]'``). This subpackage is
the only part of ``valorize_core`` that may import a third-party package (Hypothesis).
"""

from valorize_core.testing.strategies import (
    account_kinds,
    accounts,
    balanced_transactions,
    condition_groups,
    conditions,
    currencies,
    money,
    money_strings,
    rules,
    split_amounts,
)

__all__ = [
    "account_kinds",
    "accounts",
    "balanced_transactions",
    "condition_groups",
    "conditions",
    "currencies",
    "money",
    "money_strings",
    "rules",
    "split_amounts",
]
