"""Valorize's domain: money, accounts, transactions with splits, budgets, rules and reports.

Standard library only, no I/O: adapters plug into :mod:`valorize_core.ports`.
"""

from valorize_core.app import Valorize
from valorize_core.model.accounts import Account, AccountKind
from valorize_core.model.budgets import Budget, BudgetPeriod, BudgetStatus, Rollover
from valorize_core.model.categories import Category, CategoryKind, CategoryTree
from valorize_core.model.errors import (
    Conflict,
    CurrencyMismatch,
    DomainError,
    InvalidMoney,
    NotFound,
    PermissionDenied,
    UnbalancedSplits,
    ValidationError,
)
from valorize_core.model.ledger import Ledger, Posting
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Currency, Money
from valorize_core.model.rates import Rate, RateBook
from valorize_core.model.rules import Condition, ConditionGroup, Rule
from valorize_core.model.schedules import Schedule
from valorize_core.model.transactions import Split, Transaction, Transfer
from valorize_core.use_cases.actions.create_account import NewAccount
from valorize_core.use_cases.actions.create_category import NewCategory
from valorize_core.use_cases.actions.create_rule import NewRule
from valorize_core.use_cases.actions.create_schedule import NewSchedule
from valorize_core.use_cases.actions.create_transaction import NewTransaction, SplitInput
from valorize_core.use_cases.actions.create_transfer import NewTransfer
from valorize_core.use_cases.actions.decide_subscription import SubscriptionDecision
from valorize_core.use_cases.actions.post_schedules import SchedulePosting
from valorize_core.use_cases.actions.set_budget import BudgetInput
from valorize_core.use_cases.actions.set_rates import NewRates, RateImport, RateInput
from valorize_core.use_cases.actions.signup import SignupRequest
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.queries.forecast import ForecastQuery
from valorize_core.use_cases.queries.list_transactions import TransactionQuery
from valorize_core.use_cases.queries.subscriptions import FoundSubscriptionsQuery

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
    "ForecastQuery",
    "FoundSubscriptionsQuery",
    "InvalidMoney",
    "Ledger",
    "Money",
    "NewAccount",
    "NewCategory",
    "NewRates",
    "NewRule",
    "NewSchedule",
    "NewTransaction",
    "NewTransfer",
    "NotFound",
    "PermissionDenied",
    "Ports",
    "Posting",
    "Rate",
    "RateBook",
    "RateImport",
    "RateInput",
    "Rollover",
    "Rule",
    "Schedule",
    "SchedulePosting",
    "SignupRequest",
    "Split",
    "SplitInput",
    "SubscriptionDecision",
    "Transaction",
    "TransactionFilter",
    "TransactionQuery",
    "Transfer",
    "UnbalancedSplits",
    "ValidationError",
    "Valorize",
]
