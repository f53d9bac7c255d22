"""DevOps connectors: local work items (standalone, the embedded default) and Azure DevOps."""

from plugins.devops.azure import AzureDevOpsConnector
from plugins.devops.standalone import StandaloneConnector

__all__ = ["AzureDevOpsConnector", "StandaloneConnector"]
