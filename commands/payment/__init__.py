"""`/payment`: recording PAYMENT actions, their status buttons and the payment watcher."""

from commands.payment.listeners import register

__all__ = ["register"]
