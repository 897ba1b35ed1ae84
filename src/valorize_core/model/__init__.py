"""The domain model: values, entities, their rules and events; no I/O, no ports.

Money, accounts, transactions with splits, categories, budgets, the ledger, rules, payees,
identity, jobs, notifications, reports, statements, and the errors and events every other room
uses. The model is the bottom room: it imports nothing from the others (the rules are typed
against the pattern-engine port, at type-checking time only).
"""
