"""The Stripe API calls Stint makes, with timeouts, retries and idempotency keys.

Every write carries an idempotency key derived from Stint's own ids (the billing
account or the invoice), so the library's automatic retries after a timeout or a dropped
connection — and Stint's own retries of a whole step — repeat the same request instead of
making a second customer, a second invoice item or a second charge.
"""

from __future__ import annotations

from typing import Any

import stripe
from stripe.params import CustomerCreateParams

__all__ = ["StripeGateway"]

#: Seconds before one Stripe call is given up (and retried by the library).
TIMEOUT_SECONDS = 10.0
#: Retries of a failed connection or a 409/429/5xx answer, with the same idempotency key.
NETWORK_RETRIES = 2


class _HTTPXClient(stripe.HTTPXClient):
    """The library's httpx client, sending the encoded form body as ``content``.

    stripe 16 passes it as ``data=<bytes>``, which httpx 0.28 deprecates with a warning
    on every call (an error under ``filterwarnings = error``); the bytes sent are the same.
    """

    def _get_request_args_kwargs(self, method: str, url: str, headers: Any, post_data: Any) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if isinstance(body, bytes | str) and body:
            kwargs["content"] = body
        return [args, kwargs]


class StripeGateway:
    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
        retries: int = NETWORK_RETRIES,
    ) -> None:
        self._http = _HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=retries,
            http_client=self._http,
        )
        self._v1 = self._client.v1

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # stripe leaves it unannotated

    # Customers and payment methods ---------------------------------------------------

    async def create_customer(self, *, name: str, email: str | None, account: str) -> Any:
        params: CustomerCreateParams = {"name": name, "metadata": {"stint_subscription_id": account}}
        if email:
            params["email"] = email
        return await self._v1.customers.create_async(params, {"idempotency_key": f"stint-customer-{account}"})

    async def customer(self, customer_id: str, *, expand_method: bool = False) -> Any:
        """The customer; ``expand_method`` includes the default payment method (card brand, last 4)."""
        if expand_method:
            return await self._v1.customers.retrieve_async(
                customer_id, {"expand": ["invoice_settings.default_payment_method"]}
            )
        return await self._v1.customers.retrieve_async(customer_id)

    async def set_default_payment_method(self, customer_id: str, payment_method_id: str) -> Any:
        # Setting the same value twice is harmless, so no idempotency key is needed.
        return await self._v1.customers.update_async(
            customer_id, {"invoice_settings": {"default_payment_method": payment_method_id}}
        )

    async def setup_intent(self, setup_intent_id: str) -> Any:
        return await self._v1.setup_intents.retrieve_async(setup_intent_id)

    async def checkout_session(
        self, *, customer_id: str, success_url: str, cancel_url: str, account: str, currency: str
    ) -> Any:
        return await self._v1.checkout.sessions.create_async(
            {
                "mode": "setup",
                "customer": customer_id,
                "currency": currency.lower(),
                "success_url": success_url,
                "cancel_url": cancel_url,
                "metadata": {"stint_subscription_id": account},
            }
        )

    async def retrieve_checkout_session(self, session_id: str) -> Any:
        return await self._v1.checkout.sessions.retrieve_async(session_id)

    async def portal_session(self, *, customer_id: str, return_url: str) -> Any:
        return await self._v1.billing_portal.sessions.create_async(
            {"customer": customer_id, "return_url": return_url}
        )

    # Invoices -----------------------------------------------------------------------

    async def pending_items(self, customer_id: str) -> list[Any]:
        """The customer's invoice items not on any invoice yet (the next invoice would take them)."""
        page = await self._v1.invoice_items.list_async({"customer": customer_id, "limit": 100})
        return [item for item in page.data if not getattr(item, "invoice", None)]

    async def create_item(
        self,
        *,
        customer_id: str,
        amount: int,
        currency: str,
        description: str,
        metadata: dict[str, str],
        key: str,
    ) -> Any:
        return await self._v1.invoice_items.create_async(
            {
                "customer": customer_id,
                "amount": amount,
                "currency": currency.lower(),
                "description": description,
                "metadata": metadata,
            },
            {"idempotency_key": key},
        )

    async def delete_item(self, item_id: str) -> None:
        await self._v1.invoice_items.delete_async(item_id)

    async def create_invoice(
        self, *, customer_id: str, description: str, metadata: dict[str, str], key: str
    ) -> Any:
        return await self._v1.invoices.create_async(
            {
                "customer": customer_id,
                # Take exactly the pending items Stint just wrote (newer API versions exclude them).
                "pending_invoice_items_behavior": "include",
                "description": description,
                "metadata": metadata,
            },
            {"idempotency_key": key},
        )

    async def invoices_of(self, customer_id: str) -> list[Any]:
        """The customer's most recent invoices (up to 100), newest first."""
        page = await self._v1.invoices.list_async({"customer": customer_id, "limit": 100})
        return list(page.data)

    async def invoice(self, invoice_id: str) -> Any:
        return await self._v1.invoices.retrieve_async(invoice_id)

    async def finalize(self, invoice_id: str, *, key: str) -> Any:
        return await self._v1.invoices.finalize_invoice_async(
            invoice_id,
            {},
            {"idempotency_key": key},
        )

    async def create_credit_note(
        self, *, invoice_id: str, amount: int, memo: str, metadata: dict[str, str], key: str
    ) -> Any:
        """A credit note on a finalised, unpaid invoice: Stripe lowers its amount due by ``amount``."""
        return await self._v1.credit_notes.create_async(
            {"invoice": invoice_id, "amount": amount, "memo": memo, "metadata": metadata},
            {"idempotency_key": key},
        )

    async def credit_notes_of(self, invoice_id: str) -> list[Any]:
        page = await self._v1.credit_notes.list_async({"invoice": invoice_id, "limit": 100})
        return list(page.data)

    async def pay(self, invoice_id: str, *, key: str) -> Any:
        return await self._v1.invoices.pay_async(invoice_id, {}, {"idempotency_key": key})
