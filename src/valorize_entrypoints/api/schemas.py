"""DTOs on the wire (msgspec Structs), never domain objects, and their conversions.

Money is a decimal string with its currency: ``{"amount": "-12.34", "currency": "BRL"}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from valorize_core.model.accounts import Account
from valorize_core.model.budgets import Budget, BudgetStatus
from valorize_core.model.categories import Category
from valorize_core.model.identity import ApiToken, Member
from valorize_core.model.jobs import Job
from valorize_core.model.money import CURRENCY_EXPONENTS, Money
from valorize_core.model.notifications import Notification
from valorize_core.model.rule_suggestions import RuleSuggestion
from valorize_core.model.rules import Rule, action_to_data, condition_to_data
from valorize_core.model.statements.imports import StatementImport
from valorize_core.model.transactions import Transaction, Transfer
from valorize_core.use_cases.categorization import Suggestion
from valorize_core.use_cases.queries.reports import Report

# The domain refuses control characters other than tab in any text, and names that are blank
# (valorize_core/model/text.py): the patterns say so, so the schema allows exactly what is taken.
# Character classes are spelled out: ``\s`` means different sets to ECMA-262 (the schema's
# reader) and to Python (msgspec, the domain); this is Python's whitespace plus U+FEFF.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_CONTROL = r"\x00-\x08\x0a-\x1f\x7f-\x9f"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"
NAME_PATTERN = rf"^[^{_CONTROL}]*[^{_SPACE}{_CONTROL}][^{_CONTROL}]*$"
EMAIL_PATTERN = rf"^[^@{_SPACE}{_CONTROL}]+@[^@{_SPACE}{_CONTROL}]+\.[^@{_SPACE}{_CONTROL}]+$"
# Dates the domain takes: years 1900 to 2999 (valorize_core/use_cases/actions/_shared.py).
Day = Annotated[date, Meta(extra_json_schema={"pattern": "^(?:19[0-9]{2}|2[0-9]{3})-"})]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NAME_PATTERN)]
ShortName = Annotated[str, Meta(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Text = Annotated[str, Meta(max_length=500, pattern=TEXT_PATTERN)]
Payee = Annotated[str, Meta(max_length=200, pattern=TEXT_PATTERN)]
ExternalId = Annotated[str, Meta(max_length=255, pattern=TEXT_PATTERN)]
Email = Annotated[str, Meta(min_length=3, max_length=320, pattern=EMAIL_PATTERN)]
# Money.parse's grammar: ASCII digits, one optional sign and point, and no negative zero (a
# minus needs a non-zero digit). Decimals beyond the currency's are refused by the domain (422).
AMOUNT_PATTERN = r"^(?:\+?[0-9]+(?:\.[0-9]+)?|-(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*))$"
POSITIVE_AMOUNT_PATTERN = r"^\+?(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*)$"
PositiveAmount = Annotated[
    str, Meta(min_length=1, max_length=40, pattern=POSITIVE_AMOUNT_PATTERN, examples=["500.00"],
              description="A decimal amount above zero"),
]  # fmt: skip
Amount = Annotated[
    str,
    Meta(
        min_length=1, max_length=40, pattern=AMOUNT_PATTERN, examples=["-12.34"],
        description="A decimal amount: [+-]digits[.digits], ASCII digits, no negative zero",
    ),
]  # fmt: skip
# An active ISO 4217 code, upper case: the schema lists exactly the codes the domain knows.
CURRENCY_PATTERN = f"^(?:{'|'.join(sorted(CURRENCY_EXPONENTS))})$"
CurrencyCode = Annotated[str, Meta(pattern=CURRENCY_PATTERN, examples=["BRL"], description="ISO 4217, upper case")]
Tag = Annotated[str, Meta(min_length=1, max_length=50, pattern=r"^[\w\-:./]+$")]
AccountKindName = Literal["checking", "savings", "credit_card", "cash", "investment", "loan"]
CategoryKindName = Literal["expense", "income"]


class MoneyOut(Struct, frozen=True):
    amount: str
    currency: str


def money(m: Money) -> MoneyOut:
    return MoneyOut(m.to_decimal_string(), m.currency.code)


# -- identity ------------------------------------------------------------------------------


class SignupIn(Struct, forbid_unknown_fields=True):
    tenant_name: Name
    email: Email
    name: Name


class SignupOut(Struct):
    tenant_id: UUID
    user_id: UUID
    token_id: UUID
    token: str


class TokenIn(Struct, forbid_unknown_fields=True):
    name: Name
    role: Literal["owner", "member", "viewer"] | None = None
    user_id: UUID | None = None  # another member's (owners); default: the caller's own


class TokenOut(Struct):
    id: UUID
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    last_four: str
    user_id: UUID  # whose token it is (owners see every member's)


class TokenCreated(Struct):
    token: str
    details: TokenOut


def token(t: ApiToken) -> TokenOut:
    return TokenOut(t.id, t.name, t.role.value, t.created_at, t.revoked_at, t.last_four, t.user_id)


# -- accounts and categories ---------------------------------------------------------------


class AccountIn(Struct, forbid_unknown_fields=True):
    name: Name
    kind: AccountKindName
    currency: CurrencyCode
    opening_balance: Amount = "0"
    opened_on: Day | None = None


class AccountPatch(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    kind: AccountKindName | UnsetType = UNSET
    archived: bool | UnsetType = UNSET
    opening_balance: Amount | UnsetType = UNSET


class AccountOut(Struct):
    id: UUID
    name: str
    kind: str
    currency: str
    opening_balance: MoneyOut
    balance: MoneyOut
    opened_on: date
    archived: bool
    created_at: datetime


def account(a: Account) -> AccountOut:
    return AccountOut(
        a.id, a.name, a.kind.value, a.currency.code, money(a.opening_balance), money(a.balance), a.opened_on,
        a.archived, a.created_at,
    )  # fmt: skip


class CategoryIn(Struct, forbid_unknown_fields=True):
    name: ShortName
    kind: CategoryKindName
    parent_id: UUID | None = None


class CategoryPatch(Struct, forbid_unknown_fields=True):
    name: ShortName | UnsetType = UNSET
    kind: CategoryKindName | UnsetType = UNSET
    parent_id: UUID | UnsetType | None = UNSET


class CategoryOut(Struct):
    id: UUID
    name: str
    kind: str
    parent_id: UUID | None


def category(c: Category) -> CategoryOut:
    return CategoryOut(c.id, c.name, c.kind.value, c.parent_id)


# -- transactions --------------------------------------------------------------------------


class SplitIn(Struct, forbid_unknown_fields=True):
    amount: Amount
    category_id: UUID | None = None
    memo: Text = ""


class TransactionIn(Struct, forbid_unknown_fields=True):
    # Either splits or a category_id, not both (create_transaction.build_splits).
    json_schema_extra: ClassVar[dict[str, Any]] = {
        "not": {"required": ["splits", "category_id"],
                "properties": {"splits": {"minItems": 1}, "category_id": {"type": "string"}}},
    }  # fmt: skip

    account_id: UUID
    booked_on: Day
    description: Text
    amount: Amount
    splits: Annotated[list[SplitIn], Meta(max_length=100)] = []
    category_id: UUID | None = None
    payee: Payee | None = None
    tags: Annotated[list[Tag], Meta(max_length=20)] = []
    status: Literal["pending", "posted", "reconciled"] = "posted"
    external_id: ExternalId | None = None


class TransactionPatch(Struct, forbid_unknown_fields=True):
    """Fields to change. ``category_id: null`` makes the transaction uncategorized."""

    # New splits, or a category for the whole amount: not both (update_transaction).
    json_schema_extra: ClassVar[dict[str, Any]] = {"not": {"required": ["splits", "category_id"]}}

    account_id: UUID | UnsetType = UNSET
    booked_on: Day | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    payee: Payee | UnsetType = UNSET
    amount: Amount | UnsetType = UNSET
    splits: Annotated[list[SplitIn], Meta(max_length=100)] | UnsetType = UNSET
    category_id: UUID | UnsetType | None = UNSET
    tags: Annotated[list[Tag], Meta(max_length=20)] | UnsetType = UNSET
    status: Literal["pending", "posted", "reconciled"] | UnsetType = UNSET


class SplitOut(Struct):
    category_id: UUID | None
    amount: MoneyOut
    memo: str


class CategorizationOut(Struct):
    source: str
    confidence: str
    explanation: str
    rule_id: UUID | None


class TransactionOut(Struct):
    id: UUID
    account_id: UUID
    booked_on: date
    description: str
    payee: str
    amount: MoneyOut
    splits: list[SplitOut]
    tags: list[str]
    status: str
    source: str
    external_id: str | None
    categorization: CategorizationOut
    transfer_id: UUID | None
    import_id: UUID | None
    created_at: datetime
    updated_at: datetime


def transaction(t: Transaction) -> TransactionOut:
    c = t.categorization
    return TransactionOut(
        id=t.id, account_id=t.account_id, booked_on=t.booked_on, description=t.description, payee=t.payee,
        amount=money(t.amount), splits=[SplitOut(s.category_id, money(s.amount), s.memo) for s in t.splits],
        tags=list(t.tags), status=t.status.value, source=t.source.value, external_id=t.external_id,
        categorization=CategorizationOut(c.source.value, str(c.confidence), c.explanation, c.rule_id),
        transfer_id=t.transfer_id, import_id=t.import_id, created_at=t.created_at, updated_at=t.updated_at,
    )  # fmt: skip


class TransactionPageOut(Struct):
    items: list[TransactionOut]
    next_cursor: str | None


class TransferIn(Struct, forbid_unknown_fields=True):
    from_account_id: UUID
    to_account_id: UUID
    amount: Amount
    booked_on: Day
    description: Text = "Transfer"


class TransferOut(Struct):
    id: UUID
    outflow: TransactionOut
    inflow: TransactionOut


def transfer(t: Transfer) -> TransferOut:
    return TransferOut(t.id, transaction(t.outflow), transaction(t.inflow))


class CorrectionIn(Struct, forbid_unknown_fields=True):
    category_id: UUID


class SuggestionOut(Struct):
    category_id: UUID
    source: str
    confidence: str
    explanation: str
    rule_id: UUID | None


def suggestion(s: Suggestion) -> SuggestionOut:
    return SuggestionOut(s.category_id, s.source.value, str(s.confidence), s.explanation, s.rule_id)


# -- budgets -------------------------------------------------------------------------------


class BudgetIn(Struct, forbid_unknown_fields=True):
    category_id: UUID
    limit: PositiveAmount
    currency: CurrencyCode
    period: Literal["week", "month", "year"] = "month"
    rollover: Literal["reset", "carry_unspent", "carry_unspent_and_overspent"] = "reset"
    starts_on: Day | None = None
    thresholds: Annotated[list[Annotated[int, Meta(ge=1, le=1000)]], Meta(min_length=1, max_length=10)] = msgspec.field(
        default_factory=lambda: [80, 100]
    )


class BudgetOut(Struct):
    id: UUID
    category_id: UUID
    period: str
    limit: MoneyOut
    rollover: str
    starts_on: date
    thresholds: list[int]
    created_at: datetime


def budget(b: Budget) -> BudgetOut:
    return BudgetOut(
        b.id, b.category_id, b.period.value, money(b.limit), b.rollover.value, b.starts_on, list(b.thresholds),
        b.created_at,
    )  # fmt: skip


class BudgetStatusOut(Struct):
    budget_id: UUID
    period_start: date
    period_end: date
    budgeted: MoneyOut
    carried_in: MoneyOut
    spent: MoneyOut
    available: MoneyOut
    remaining: MoneyOut
    percent: str | None


def budget_status(s: BudgetStatus) -> BudgetStatusOut:
    return BudgetStatusOut(
        s.budget_id, s.period_start, s.period_end, money(s.budgeted), money(s.carried_in), money(s.spent),
        money(s.available), money(s.remaining), None if s.percent is None else str(s.percent),
    )  # fmt: skip


# -- rules ---------------------------------------------------------------------------------

JsonObject = dict[str, Any]


class RuleIn(Struct, forbid_unknown_fields=True):
    """``conditions``: a group ``{"match": "all"|"any", "negate": bool, "conditions": [...]}``
    whose members are groups or ``{"field", "operator", "value", "negate"}``; ``actions``: a
    list of ``{"type": "set_category"|"rename_payee"|"add_tag"|"split", ...}``."""

    name: Name
    conditions: JsonObject
    actions: Annotated[list[JsonObject], Meta(min_length=1, max_length=20)]
    position: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    stop_processing: bool = False
    enabled: bool = True


class RulePatch(Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    conditions: JsonObject | UnsetType = UNSET
    actions: Annotated[list[JsonObject], Meta(min_length=1, max_length=20)] | UnsetType = UNSET
    position: Annotated[int, Meta(ge=0, le=1_000_000)] | UnsetType = UNSET
    stop_processing: bool | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class RuleOut(Struct):
    id: UUID
    name: str
    position: int
    conditions: JsonObject
    actions: list[JsonObject]
    stop_processing: bool
    enabled: bool
    created_at: datetime


def rule(r: Rule) -> RuleOut:
    return RuleOut(
        r.id, r.name, r.position, condition_to_data(r.conditions), [action_to_data(a) for a in r.actions],
        r.stop_processing, r.enabled, r.created_at,
    )  # fmt: skip


class RuleMatchOut(Struct):
    transaction: TransactionOut
    after: TransactionOut
    reasons: list[str]
    applied: list[str]
    skipped: list[str]


class RulePreviewOut(Struct):
    total: int
    items: list[RuleMatchOut]


class ApplyRulesIn(Struct, forbid_unknown_fields=True):
    rule_ids: list[UUID] | None = None
    include_manual: bool = False


class RuleSuggestionOut(Struct):
    """A proposed rule: ``payee`` equals → set ``category_id``, and why."""

    id: UUID
    payee: str
    payee_key: str
    category_id: UUID
    agreeing: int
    total: int
    reason: str
    status: str
    created_at: datetime
    decided_at: datetime | None = None
    rule_id: UUID | None = None


def rule_suggestion(x: RuleSuggestion) -> RuleSuggestionOut:
    return RuleSuggestionOut(x.id, x.payee, x.payee_key, x.category_id, x.agreeing, x.total, x.reason,
                             x.status.value, x.created_at, x.decided_at, x.rule_id)  # fmt: skip


class AcceptedSuggestionOut(Struct):
    suggestion: RuleSuggestionOut
    rule: RuleOut


class CategorizeIn(Struct, forbid_unknown_fields=True):
    account_id: UUID | None = None


class ReportJobIn(Struct, forbid_unknown_fields=True):
    kind: Literal["spend_by_category", "income_vs_expense", "cash_flow", "net_worth"]
    start: date
    end: date


class JobOut(Struct):
    """Background work: ``result`` once ``completed`` (rule apply: ``examined``/``changed``;
    report: ``kind``/``start``/``end``/``rows``), ``error`` once ``failed``."""

    id: UUID
    kind: str
    status: str
    params: dict[str, Any]
    created_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None
    completed_at: datetime | None = None


def job(j: Job) -> JobOut:
    return JobOut(j.id, j.kind, j.status.value, j.params, j.created_at, j.result, j.error or None, j.completed_at)


class NotificationOut(Struct):
    id: UUID
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None = None


def notification(n: Notification) -> NotificationOut:
    return NotificationOut(n.id, n.kind, n.title, n.body, n.data, n.created_at, n.read_at)


# -- reports and imports --------------------------------------------------------------------


class ReportOut(Struct):
    kind: str
    start: date
    end: date
    rows: list[dict[str, Any]]


def report(r: Report) -> ReportOut:
    return ReportOut(r.kind, r.start, r.end, r.rows())


class ImportOut(Struct):
    id: UUID
    account_id: UUID
    filename: str
    status: str
    total_rows: int
    imported: int
    duplicates: int
    errors: list[dict[str, Any]]
    created_at: datetime
    completed_at: datetime | None
    updated: int = 0  # pending transactions this statement found posted


def statement_import(i: StatementImport) -> ImportOut:
    return ImportOut(
        i.id, i.account_id, i.filename, i.status.value, i.total_rows, i.imported, i.duplicates,
        [{"line": e.line, "message": e.message} for e in i.errors], i.created_at, i.completed_at, i.updated,
    )  # fmt: skip


def encode(value: Any) -> bytes:
    """JSON bytes of a DTO."""
    return msgspec.json.encode(value)


# -- errors (documented on every route) -----------------------------------------------------


class FieldErrorOut(Struct):
    field: str
    message: str


class ProblemOut(Struct, omit_defaults=True):
    """RFC 9457 problem details, as every error is answered."""

    status: int
    title: str | None = None
    detail: str | None = None
    type: str | None = None
    code: str | None = None
    errors: list[FieldErrorOut] | None = None


# -- members (an owner's people: their user, role and first token) ---------------------------

RoleName = Literal["owner", "member", "viewer"]


class MemberIn(Struct, forbid_unknown_fields=True):
    email: Email
    name: Name
    role: RoleName


class MemberPatch(Struct, forbid_unknown_fields=True):
    role: RoleName


class MemberOut(Struct):
    user_id: UUID
    email: str
    name: str
    role: str


class MemberInvited(Struct):
    member: MemberOut
    token: str
    token_details: TokenOut


def member(m: Member) -> MemberOut:
    return MemberOut(m.user.id, m.user.email, m.user.name, m.role.value)
