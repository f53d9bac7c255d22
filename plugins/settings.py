"""Settings, read once from the environment (and a ``.env`` file if present).

Every field has a docstring-style comment and a default that lets ``stint serve``
run with no settings at all: an embedded SQLite file, jobs in-process, manual
invoicing, no mail server.

Why not pydantic-settings (issue #14; a prototype on pydantic-settings 2.16 passed
``tests/unit/test_settings.py``): it came out the same size, since every rule here (URL
schemes, ranges, the generated secret key, comma lists, ``STINT_LICENCE_SERVICE``'s name,
``0`` meaning unset) stays a validator of ours; reading a given mapping instead of
``os.environ`` (``load_settings(environ)``, how the tests set settings) needs a settings
class per call and an override of a private method (``EnvSettingsSource._load_env_vars``);
pydantic's errors name fields, not variables, so they need translating back; and it adds a
dependency and 60–290 ms to every start (the app does not import pydantic otherwise).

Here: the fields and ``load_settings``, which reads each variable; the parsing and checks of
single values (and :class:`SettingsError`) are in ``settings_values.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from .settings_values import (
    SettingsError,
    bounded_int,
    checked_database_url,
    is_on,
    key_ring,
    licence_url,
    networks,
    off_unless_said,
    proxy_url,
    read_dotenv,
)

__all__ = ["Settings", "SettingsError", "load_settings"]


#: ``STINT_REDIS_READ_CLIENT``'s values.
READ_CLIENTS = ("lean", "redis-py", "redis-py-pool")


@dataclass(frozen=True)
class Settings:
    #: Where the data lives: ``sqlite:///path`` (relative to the working directory) or
    #: ``postgres://user@host:port/db``.
    database_url: str = "sqlite:///stint.sqlite3"
    #: Redis for Celery, the rate-limit store and the access-decision cache; unset: embedded.
    redis_url: str | None = None
    #: The current secret key (the first of ``secret_keys``): signs access tokens, seals
    #: DevOps tokens, signs CSRF cookies.
    secret_key: str = ""
    #: The current key and the previous ones still accepted, as ``(kid, secret)``, current
    #: first (``plugins/identity/keys.py``). ``STINT_SECRET_KEYS=kid:secret,kid:secret``;
    #: or ``STINT_SECRET_KEY=secret`` (one key, named ``legacy``); unset: the key file
    #: ``secret-keys`` in the data directory, created on first start, which
    #: ``stint keys rotate`` rewrites, so tokens survive restarts on a single machine.
    secret_keys: tuple[tuple[str, str], ...] = ()
    #: The key file the keys live in, which ``stint keys rotate`` writes (None: they come
    #: from the environment, and only a new environment changes them).
    secret_keys_file: Path | None = None
    #: Where the keys were read from, for ``stint keys list``: the setting's name or the file.
    secret_keys_source: str = ""
    #: Stripe's secret API key (``sk_…``); set: Stripe collects the invoices Stint computes
    #: (Buy Now, cards, retries); unset: manual invoicing.
    stripe_api_key: str | None = None
    #: The signing secret of Stripe's webhook endpoint (``whsec_…``) for ``/webhooks/stripe``.
    stripe_webhook_secret: str | None = None
    #: A Stripe-compatible server (localstripe in tests); unset: Stripe itself.
    stripe_api_base: str | None = None
    #: ``smtp://user:pass@host:port``; unset: mail is logged, not sent.
    smtp_url: str | None = None
    #: The sender address of Stint's mails.
    smtp_from: str = "stint@localhost"
    #: Who issues the invoices (their PDFs' seller): the operator's name, postal address
    #: (lines separated by ``|``), tax id and billing e-mail (unset: ``smtp_from``).
    seller_name: str = "Stint"
    seller_address: str = ""
    seller_tax_id: str = ""
    seller_email: str = ""
    #: The public address of this Stint, used in mails and links.
    base_url: str = "http://127.0.0.1:8000"
    #: The vendor's Ed25519 private key (PKCS#8 PEM text or a file path) that signs offline
    #: activation files; only the vendor's issuing machine needs it (``docs/activation.md``).
    activation_signing_key: str | None = None
    #: Public keys trusted for activation files beside the shipped ones (PEM text or a file path).
    activation_public_keys: str | None = None
    #: Trust this installation's development activation key (``STINT_ACTIVATION_TRUST_DEV_KEY``,
    #: 1/true/yes/on). Off by default: a production server never trusts a key found on disk.
    activation_trust_dev_key: bool = False
    #: The licence service an on-premises server activates with (``https://…``; ``http://`` only
    #: on loopback). Unset: online activation is off; activation files still work.
    licence_service_url: str | None = None
    #: An explicit HTTP(S) proxy for the licence service; unset: HTTPS_PROXY/HTTP_PROXY apply.
    licence_service_proxy: str | None = None
    #: A CA bundle (file path) to trust for the licence service's TLS certificate.
    licence_service_ca: str | None = None
    #: Serve ``/api/v1/licence-service/…``: this Stint is the vendor's licence service.
    licence_service_enabled: bool = False
    #: Distinct servers one subscription id may activate (bounds a leaked or shared id).
    licence_service_max_servers: int = 20
    #: Minutes an access token lives; refresh tokens renew it.
    access_token_minutes: int = 15
    #: Days a new tenant's trial lasts (SPEC §3, configurable).
    trial_days: int = 28
    #: Days of access kept after a failed payment (SPEC §3, configurable).
    grace_days: int = 14
    #: Minutes an on-premises server's clock may fall behind the latest time it has trusted
    #: before access is refused as ``clock_set_back`` (SPEC §7): room for a clock that ran
    #: fast to be corrected, too little to relive an expired licence's last days.
    clock_tolerance_minutes: int = 60
    #: Where Stint keeps generated files (secret key, dev activation key).
    data_dir: Path = field(default_factory=lambda: Path(".stint"))
    #: Prefix of every Redis key Stint writes (rate-limit counters, cached access decisions).
    redis_prefix: str = "stint:"
    #: The client of the access path's one Redis call per request: ``lean`` (the hand-written
    #: pipelined connection), ``redis-py`` (a dedicated redis-py connection) or ``redis-py-pool``
    #: (the pooled redis-py client every other Redis command uses).
    redis_read_client: str = "lean"
    #: Origins allowed to call the API from a browser (CORS); empty: none, CORS stays closed.
    cors_origins: tuple[str, ...] = ()
    #: Who may frame Stint's pages (CSP ``frame-ancestors``): the DevOps platform's
    #: extension host goes here, space-separated. Default: only Stint itself.
    frame_ancestors: str = "'self'"
    #: The load balancers and reverse proxies in front of Stint, as addresses or networks
    #: (``10.0.0.0/8,192.0.2.7``). Only a connection from one of them may say, in
    #: ``Forwarded`` or ``X-Forwarded-For``/``-Proto``, which client and scheme it forwards;
    #: empty: those headers are ignored and the connection's peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    #: The Bearer token Prometheus presents to scrape ``/metrics``; unset: ``/metrics``
    #: answers only clients on this machine (loopback).
    metrics_token: str | None = None
    #: Failed sign-ins per account per minute before sign-in answers 429.
    rate_limit_login: int = 10
    #: Sign-in and token requests per client address per minute.
    rate_limit_client: int = 60
    #: API requests per tenant per minute (one tenant's flood cannot starve another).
    rate_limit_api: int = 3000
    #: Days a cloud tenant's data is kept after expiry before it is purged (SPEC §3).
    retention_days: int = 365
    #: Subscriptions per renewal batch (one task each on Celery).
    jobs_batch_size: int = 200
    #: Cloud tenants' DevOps connections may reach private/loopback addresses (tests, or a
    #: deployment whose Azure DevOps Server sits on its own network). On-premises: always.
    devops_allow_private_hosts: bool = False
    #: Minutes between runs of the Azure DevOps work item sync (``work_item_sync`` job).
    work_item_sync_minutes: int = 15
    #: Work items per page of the sync (one WIQL ``$top``; read in workitemsbatch calls of 200).
    work_item_sync_page_size: int = 200
    #: Worker processes ``stint worker`` starts (each renews one batch at a time).
    jobs_concurrency: int = 2
    #: Seconds between runs of every job, overriding each job's own period (tests, demos).
    jobs_every: int | None = None
    #: Seconds Redis hides a delivered, unacknowledged task before giving it to another
    #: worker; task time limits and retry countdowns are kept below it.
    jobs_visibility_timeout: int = 3600
    #: Every operator must have a second factor (TOTP): one without it may only enrol, on the
    #: console and the operator API (``STINT_OPERATOR_2FA_REQUIRED``, default on; 0/false/no/off
    #: turns it off). An operator who has one always needs a code to sign in, whatever this says.
    operator_2fa_required: bool = True
    #: TESTS ONLY: a file holding the ISO instant Stint takes as "now", so a web process
    #: and its workers agree on a controlled clock. Announced loudly at start and in /health.
    fake_clock_file: Path | None = None

    @property
    def clock_tolerance(self) -> timedelta:
        return timedelta(minutes=self.clock_tolerance_minutes)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> str:
        return self.database_url.removeprefix("sqlite:///")




def load_settings(environ: dict[str, str] | None = None, *, dotenv: Path | None = None) -> Settings:
    """Read and validate every setting; raise :class:`SettingsError` naming a bad one."""
    env = {**read_dotenv(dotenv or Path(".env")), **(environ if environ is not None else os.environ)}

    def get(name: str) -> str | None:
        return (env.get(name) or "").strip() or None

    data_dir = Path(get("STINT_DATA_DIR") or ".stint")
    for name in ("STINT_BASE_URL", "STINT_STRIPE_API_BASE"):
        value = get(name)
        if value and urlparse(value).scheme not in ("http", "https"):
            raise SettingsError(f"{name}={value!r} must be an http(s) URL")
    redis_url = get("STINT_REDIS_URL")
    if redis_url and urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"STINT_REDIS_URL={redis_url!r} must be a redis:// URL")
    smtp_url = get("STINT_SMTP_URL")
    if smtp_url and urlparse(smtp_url).scheme not in ("smtp", "smtps"):
        raise SettingsError(f"STINT_SMTP_URL={smtp_url!r} must be an smtp:// URL")
    read_client = get("STINT_REDIS_READ_CLIENT") or "lean"
    if read_client not in READ_CLIENTS:
        choices = ", ".join(READ_CLIENTS)
        raise SettingsError(f"STINT_REDIS_READ_CLIENT={read_client!r} must be one of {choices}")
    raw_origins = (get("STINT_CORS_ORIGINS") or "").split(",")
    cors_origins = tuple(o.strip().rstrip("/") for o in raw_origins if o.strip())
    for origin in cors_origins:
        if origin != "*" and urlparse(origin).scheme not in ("http", "https"):
            raise SettingsError(f"STINT_CORS_ORIGINS entry {origin!r} must be an http(s) origin")
    frame_ancestors = get("STINT_FRAME_ANCESTORS") or "'self'"
    if any(ch in frame_ancestors for ch in ";,\r\n"):
        raise SettingsError("STINT_FRAME_ANCESTORS is a space-separated list of sources, without ; or ,")
    keys, keys_file, keys_source = key_ring(get("STINT_SECRET_KEYS"), get("STINT_SECRET_KEY"), data_dir)
    fake_clock_file = get("STINT_FAKE_CLOCK_FILE")
    return Settings(
        database_url=checked_database_url(get("STINT_DATABASE_URL") or "sqlite:///stint.sqlite3"),
        redis_url=redis_url,
        secret_key=keys[0].secret,
        secret_keys=tuple((key.kid, key.secret) for key in keys),
        secret_keys_file=keys_file,
        secret_keys_source=keys_source,
        stripe_api_key=get("STINT_STRIPE_API_KEY"),
        stripe_webhook_secret=get("STINT_STRIPE_WEBHOOK_SECRET"),
        stripe_api_base=get("STINT_STRIPE_API_BASE"),
        smtp_url=smtp_url,
        smtp_from=get("STINT_SMTP_FROM") or "stint@localhost",
        seller_name=(get("STINT_SELLER_NAME") or "Stint")[:200],
        seller_address=(get("STINT_SELLER_ADDRESS") or "")[:1000],
        seller_tax_id=(get("STINT_SELLER_TAX_ID") or "")[:64],
        seller_email=(get("STINT_SELLER_EMAIL") or "")[:320],
        base_url=(get("STINT_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        activation_signing_key=get("STINT_ACTIVATION_SIGNING_KEY"),
        activation_public_keys=get("STINT_ACTIVATION_PUBLIC_KEYS"),
        activation_trust_dev_key=is_on(get("STINT_ACTIVATION_TRUST_DEV_KEY")),
        devops_allow_private_hosts=is_on(get("STINT_DEVOPS_ALLOW_PRIVATE_HOSTS")),
        licence_service_url=licence_url(get("STINT_LICENCE_SERVICE_URL")),
        licence_service_proxy=proxy_url(get("STINT_LICENCE_SERVICE_PROXY")),
        licence_service_ca=get("STINT_LICENCE_SERVICE_CA"),
        licence_service_enabled=is_on(get("STINT_LICENCE_SERVICE")),
        licence_service_max_servers=bounded_int(env, "STINT_LICENCE_SERVICE_MAX_SERVERS", 20, 1, 100_000),
        access_token_minutes=bounded_int(env, "STINT_ACCESS_TOKEN_MINUTES", 15, 1, 1440),
        trial_days=bounded_int(env, "STINT_TRIAL_DAYS", 28, 1, 365),
        grace_days=bounded_int(env, "STINT_GRACE_DAYS", 14, 0, 365),
        clock_tolerance_minutes=bounded_int(env, "STINT_CLOCK_TOLERANCE_MINUTES", 60, 5, 10_080),
        data_dir=data_dir,
        redis_prefix=get("STINT_REDIS_PREFIX") or "stint:",
        redis_read_client=read_client,
        cors_origins=cors_origins,
        frame_ancestors=frame_ancestors,
        trusted_proxies=networks(get("STINT_TRUSTED_PROXIES")),
        metrics_token=get("STINT_METRICS_TOKEN"),
        rate_limit_login=bounded_int(env, "STINT_RATE_LIMIT_LOGIN", 10, 1, 1_000_000),
        rate_limit_client=bounded_int(env, "STINT_RATE_LIMIT_CLIENT", 60, 1, 1_000_000),
        jobs_concurrency=bounded_int(env, "STINT_JOBS_CONCURRENCY", 2, 1, 64),
        rate_limit_api=bounded_int(env, "STINT_RATE_LIMIT_API", 3000, 1, 100_000_000),
        retention_days=bounded_int(env, "STINT_RETENTION_DAYS", 365, 31, 36_500),
        jobs_batch_size=bounded_int(env, "STINT_JOBS_BATCH_SIZE", 200, 1, 10_000),
        jobs_every=bounded_int(env, "STINT_JOBS_EVERY", 0, 0, 86_400) or None,
        work_item_sync_minutes=bounded_int(env, "STINT_WORK_ITEM_SYNC_MINUTES", 15, 1, 1440),
        work_item_sync_page_size=bounded_int(env, "STINT_WORK_ITEM_SYNC_PAGE_SIZE", 200, 1, 20_000),
        jobs_visibility_timeout=bounded_int(env, "STINT_JOBS_VISIBILITY_TIMEOUT", 3600, 20, 43_200),
        fake_clock_file=Path(fake_clock_file) if fake_clock_file else None,
        operator_2fa_required=off_unless_said(
            "STINT_OPERATOR_2FA_REQUIRED", get("STINT_OPERATOR_2FA_REQUIRED")
        ),
    )
