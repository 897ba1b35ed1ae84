"""``Valorize``: every use case, built once from a :class:`~valorize_core.use_cases.context.Ports` bundle.

Services that import the library use this instead of wiring each action themselves::

    vz = Valorize(ports)
    account = await vz.create_account(NewAccount(tenant_id, "Checking", "checking", "BRL"))
"""

from __future__ import annotations

from valorize_core.use_cases.actions.apply_rules import ApplyRules
from valorize_core.use_cases.actions.categorize_batch import CategorizeBatch
from valorize_core.use_cases.actions.change_schedule import ChangeSchedule, DeleteSchedule
from valorize_core.use_cases.actions.check_balances import CheckBalances, RemoveBalanceAlert, SetBalanceAlert
from valorize_core.use_cases.actions.correct_category import CorrectCategories, CorrectCategory
from valorize_core.use_cases.actions.create_account import CreateAccount
from valorize_core.use_cases.actions.create_category import CreateCategory
from valorize_core.use_cases.actions.create_rule import CreateRule
from valorize_core.use_cases.actions.create_schedule import CreateSchedule
from valorize_core.use_cases.actions.create_transaction import CreateTransaction
from valorize_core.use_cases.actions.create_transfer import CreateTransfer
from valorize_core.use_cases.actions.decide_rule_suggestion import AcceptRuleSuggestion, DismissRuleSuggestion
from valorize_core.use_cases.actions.decide_subscription import ConfirmSubscription, DismissSubscription
from valorize_core.use_cases.actions.delete_account import DeleteAccount
from valorize_core.use_cases.actions.delete_budget import DeleteBudget
from valorize_core.use_cases.actions.delete_category import DeleteCategory
from valorize_core.use_cases.actions.delete_rule import DeleteRule
from valorize_core.use_cases.actions.delete_transaction import DeleteTransaction
from valorize_core.use_cases.actions.evaluate_budgets import EvaluateBudgets
from valorize_core.use_cases.actions.import_statement import ImportStatement, RequestImport, RunImport
from valorize_core.use_cases.actions.manage_members import ChangeMemberRole, InviteMember, RemoveMember
from valorize_core.use_cases.actions.manage_tokens import CreateToken, RevokeToken
from valorize_core.use_cases.actions.mark_notification_read import MarkNotificationRead
from valorize_core.use_cases.actions.operator_webhooks import SendOperatorWebhook
from valorize_core.use_cases.actions.post_schedules import PostSchedules
from valorize_core.use_cases.actions.request_job import RequestJob
from valorize_core.use_cases.actions.restore_tenant import RestoreTenant
from valorize_core.use_cases.actions.set_budget import SetBudget
from valorize_core.use_cases.actions.set_rates import ImportRates, SetRates
from valorize_core.use_cases.actions.set_reporting_currency import SetReportingCurrency
from valorize_core.use_cases.actions.signup import Signup
from valorize_core.use_cases.actions.update_account import UpdateAccount
from valorize_core.use_cases.actions.update_category import UpdateCategory
from valorize_core.use_cases.actions.update_rule import UpdateRule
from valorize_core.use_cases.actions.update_transaction import UpdateTransaction
from valorize_core.use_cases.actions.watch_subscriptions import WatchSubscriptions
from valorize_core.use_cases.actions.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    DeliverWebhook,
    FanOutWebhooks,
    Redeliver,
    RotateWebhookSecret,
    UpdateWebhook,
)
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.queries.backup_tenant import BackupTenant
from valorize_core.use_cases.queries.budget_status import GetBudgetStatus
from valorize_core.use_cases.queries.export_transactions import ExportReport, ExportTransactions
from valorize_core.use_cases.queries.forecast import GetForecast, ListBalanceAlerts
from valorize_core.use_cases.queries.get_account import GetAccount
from valorize_core.use_cases.queries.get_import import GetImport
from valorize_core.use_cases.queries.get_job import GetJob
from valorize_core.use_cases.queries.get_transaction import GetTransaction
from valorize_core.use_cases.queries.get_user import GetUser
from valorize_core.use_cases.queries.list_accounts import ListAccounts
from valorize_core.use_cases.queries.list_budgets import ListBudgets
from valorize_core.use_cases.queries.list_categories import ListCategories
from valorize_core.use_cases.queries.list_members import ListMembers
from valorize_core.use_cases.queries.list_notifications import ListNotifications
from valorize_core.use_cases.queries.list_rates import ListRates
from valorize_core.use_cases.queries.list_rule_suggestions import ListRuleSuggestions
from valorize_core.use_cases.queries.list_rules import ListRules
from valorize_core.use_cases.queries.list_schedules import GetSchedule, ListSchedules
from valorize_core.use_cases.queries.list_tokens import ListTokens
from valorize_core.use_cases.queries.list_transactions import ListTransactions
from valorize_core.use_cases.queries.preview_rule import PreviewRule
from valorize_core.use_cases.queries.reports import RunReport
from valorize_core.use_cases.queries.subscriptions import FindSubscriptions, ListTrackedSubscriptions
from valorize_core.use_cases.queries.suggest_categories import SuggestCategories, SuggestCategoriesMany
from valorize_core.use_cases.queries.tenant_settings import GetTenantSettings
from valorize_core.use_cases.queries.webhooks import ListDeliveries, ListWebhooks

__all__ = ["Valorize"]


class Valorize:
    """The application: each attribute is one action or query, called with its command."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        # identity
        self.signup = Signup(ports)
        self.create_token = CreateToken(ports)
        self.revoke_token = RevokeToken(ports)
        self.invite_member = InviteMember(ports)
        self.change_member_role = ChangeMemberRole(ports)
        self.remove_member = RemoveMember(ports)
        self.list_tokens = ListTokens(ports)
        self.list_members = ListMembers(ports)
        self.get_user = GetUser(ports)
        # accounts and categories
        self.create_account = CreateAccount(ports)
        self.update_account = UpdateAccount(ports)
        self.delete_account = DeleteAccount(ports)
        self.list_accounts = ListAccounts(ports)
        self.get_account = GetAccount(ports)
        self.create_category = CreateCategory(ports)
        self.update_category = UpdateCategory(ports)
        self.delete_category = DeleteCategory(ports)
        self.list_categories = ListCategories(ports)
        # transactions
        self.create_transaction = CreateTransaction(ports)
        self.update_transaction = UpdateTransaction(ports)
        self.delete_transaction = DeleteTransaction(ports)
        self.create_transfer = CreateTransfer(ports)
        self.correct_category = CorrectCategory(ports)
        self.correct_categories = CorrectCategories(ports)
        self.get_transaction = GetTransaction(ports)
        self.list_transactions = ListTransactions(ports)
        self.suggest_categories = SuggestCategories(ports)
        self.suggest_categories_many = SuggestCategoriesMany(ports)
        self.import_statement = ImportStatement(ports)
        self.request_import = RequestImport(ports)
        self.run_import = RunImport(ports)
        self.get_import = GetImport(ports)
        self.request_job = RequestJob(ports)
        self.get_job = GetJob(ports)
        self.categorize_batch = CategorizeBatch(ports)
        self.accept_rule_suggestion = AcceptRuleSuggestion(ports)
        self.dismiss_rule_suggestion = DismissRuleSuggestion(ports)
        self.list_rule_suggestions = ListRuleSuggestions(ports)
        # budgets, rules, reports
        self.set_budget = SetBudget(ports)
        self.delete_budget = DeleteBudget(ports)
        self.evaluate_budgets = EvaluateBudgets(ports)
        self.budget_status = GetBudgetStatus(ports)
        self.list_budgets = ListBudgets(ports)
        self.create_rule = CreateRule(ports)
        self.update_rule = UpdateRule(ports)
        self.delete_rule = DeleteRule(ports)
        self.list_rules = ListRules(ports)
        self.preview_rule = PreviewRule(ports)
        self.apply_rules = ApplyRules(ports)
        self.report = RunReport(ports)
        # exchange rates
        self.set_rates = SetRates(ports)
        self.import_rates = ImportRates(ports)
        self.list_rates = ListRates(ports)
        self.set_reporting_currency = SetReportingCurrency(ports)
        self.tenant_settings = GetTenantSettings(ports)
        # schedules, forecast
        self.create_schedule = CreateSchedule(ports)
        self.change_schedule = ChangeSchedule(ports)
        self.delete_schedule = DeleteSchedule(ports)
        self.list_schedules = ListSchedules(ports)
        self.get_schedule = GetSchedule(ports)
        self.post_schedules = PostSchedules(ports)
        self.forecast = GetForecast(ports)
        self.set_balance_alert = SetBalanceAlert(ports)
        self.remove_balance_alert = RemoveBalanceAlert(ports)
        self.list_balance_alerts = ListBalanceAlerts(ports)
        self.check_balances = CheckBalances(ports)
        self.find_subscriptions = FindSubscriptions(ports)
        self.list_tracked_subscriptions = ListTrackedSubscriptions(ports)
        self.confirm_subscription = ConfirmSubscription(ports)
        self.dismiss_subscription = DismissSubscription(ports)
        self.watch_subscriptions = WatchSubscriptions(ports)
        # webhooks
        self.create_webhook = CreateWebhook(ports)
        self.update_webhook = UpdateWebhook(ports)
        self.rotate_webhook_secret = RotateWebhookSecret(ports)
        self.delete_webhook = DeleteWebhook(ports)
        self.redeliver_webhook = Redeliver(ports)
        self.fan_out_webhooks = FanOutWebhooks(ports)
        self.deliver_webhook = DeliverWebhook(ports)
        self.send_operator_webhook = SendOperatorWebhook(ports)
        self.list_webhooks = ListWebhooks(ports)
        self.list_webhook_deliveries = ListDeliveries(ports)
        # backup and restore
        self.backup_tenant = BackupTenant(ports)
        self.restore_tenant = RestoreTenant(ports)
        # exports
        self.export_transactions = ExportTransactions(ports)
        self.export_report = ExportReport(ports)
        # notifications
        self.list_notifications = ListNotifications(ports)
        self.mark_notification_read = MarkNotificationRead(ports)
