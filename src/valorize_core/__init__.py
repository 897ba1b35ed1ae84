"""Valorize's domain: money, accounts, transactions with splits, budgets, rules and reports.

Standard library only, no I/O: adapters plug into :mod:`valorize_core.ports`.
"""

from valorize_core.accounts import Account, AccountKind
from valorize_core.actions.create_account import NewAccount
from valorize_core.actions.create_category import NewCategory
from valorize_core.actions.create_rule import NewRule
from valorize_core.actions.create_transaction import NewTransaction, SplitInput
from valorize_core.actions.create_transfer import NewTransfer
from valorize_core.actions.set_budget import BudgetInput
from valorize_core.actions.signup import SignupRequest
from valorize_core.app import Valorize
from valorize_core.budgets import Budget, BudgetPeriod, BudgetStatus, Rollover
from valorize_core.categories import Category, CategoryKind, CategoryTree
from valorize_core.context import Ports
from valorize_core.errors import (
    Conflict,
    CurrencyMismatch,
    DomainError,
    InvalidMoney,
    NotFound,
    PermissionDenied,
    UnbalancedSplits,
    ValidationError,
)
from valorize_core.ledger import Ledger, Posting
from valorize_core.listing import TransactionFilter
from valorize_core.money import Currency, Money
from valorize_core.queries.list_transactions import TransactionQuery
from valorize_core.rules import Condition, ConditionGroup, Rule
from valorize_core.transactions import Split, Transaction, Transfer

__all__ = [
    "Account",
    "AccountKind",
    "Budget",
    "BudgetInput",
    "BudgetPeriod",
    "BudgetStatus",
    "Category",
    "CategoryKind",
    "CategoryTree",
    "Condition",
    "ConditionGroup",
    "Conflict",
    "Currency",
    "CurrencyMismatch",
    "DomainError",
    "InvalidMoney",
    "Ledger",
    "Money",
    "NewAccount",
    "NewCategory",
    "NewRule",
    "NewTransaction",
    "NewTransfer",
    "NotFound",
    "PermissionDenied",
    "Ports",
    "Posting",
    "Rollover",
    "Rule",
    "SignupRequest",
    "Split",
    "SplitInput",
    "Transaction",
    "TransactionFilter",
    "TransactionQuery",
    "Transfer",
    "UnbalancedSplits",
    "ValidationError",
    "Valorize",
]
