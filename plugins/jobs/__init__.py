"""Background work (SPEC §11): the job registry, Celery tasks and beat, and the embedded scheduler.

``registry`` holds each job as an async function over the adapters; ``celery_app`` runs
them as Celery tasks on Redis (``stint worker`` / ``stint beat``); ``embedded`` runs them
in-process under ``stint serve`` when there is no Redis; ``stint jobs run`` runs them once.
"""

from plugins.jobs.registry import JOBS, Job, renew_batch, run_job

__all__ = ["JOBS", "Job", "renew_batch", "run_job"]
