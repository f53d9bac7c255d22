"""A tenant's DevOps connection: which connector the work-item job uses (SPEC §8).

No row means standalone (local work items). An Azure DevOps row holds the organisation
URL, an optional project and the personal access token, sealed (AES-GCM under a key
derived from ``STINT_SECRET_KEY``, see ``plugins/devops/sealing.py``).
"""

ID = "0007"
DESCRIPTION = "tenant DevOps connection"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS devops_connection (
        tenant_id VARCHAR(32) PRIMARY KEY NOT NULL,
        kind VARCHAR(32) NOT NULL,
        organization_url VARCHAR(300),
        project VARCHAR(64),
        sealed_pat TEXT,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
]
